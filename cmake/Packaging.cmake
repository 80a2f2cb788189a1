# Debian packages of lockstep, so that lab machines install it without a
# compiler (ansible/roles/common installs them): `cpack` in the build
# directory writes lockstep_<version>_<arch>.deb (the coordinator) and
# lockstep-worker_<version>_<arch>.deb (the worker, its fork helper, the
# reference forksum and the VM init).
#
# The top-level install() rules name the component (package) of each file;
# only these components are packaged.  dpkg-shlibdeps computes each
# package's library dependencies from the binaries themselves.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lockstep)
set(CPACK_PACKAGE_VENDOR "lockstep")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# the .debs (and CPack's scratch _CPack_Packages/) go to build/packages;
# `cpack -B DIR` puts them in DIR instead
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL coordinator worker)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "lockstep developers <lockstep@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_COORDINATOR_PACKAGE_NAME lockstep)
set(CPACK_COMPONENT_COORDINATOR_DESCRIPTION
  "coordinated benchmark runner: the coordinator\nlockstep runs the same benchmarks on many platforms at once (native,\nDocker, KVM, QEMU, lab machines) in lockstep and stores every result in\nSQLite. This package holds the lockstep command: run, validate, report,\nexport.")
# `lockstep report` draws its plots with gnuplot when it is there
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_RECOMMENDS "gnuplot-nox")
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_SUGGESTS "lockstep-worker, sqlite3")

set(CPACK_DEBIAN_WORKER_PACKAGE_NAME lockstep-worker)
set(CPACK_COMPONENT_WORKER_DESCRIPTION
  "coordinated benchmark runner: the worker\nlockstep-worker registers with a lockstep coordinator and runs the\nbenchmarks it schedules; lockstep-vm-init is the /init of the qemu/kvm\nworker VMs.")
# the VM platforms build their guest from the worker with these on the host
set(CPACK_DEBIAN_WORKER_PACKAGE_SUGGESTS "qemu-system-x86, e2fsprogs, docker.io")

include(CPack)
