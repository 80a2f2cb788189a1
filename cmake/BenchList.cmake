# BenchList.cmake — the benchmark sources from bench/list.h, the one list
# that names them (docs/adding-a-benchmark.md), so that the build is not a
# second place to add one.  The list is read a line at a time: BENCH(name)
# builds bench/name.c; lines between "#ifdef OPTION" and "#endif" (one level)
# only with the CMake option OPTION on, which is also the compiler's define.

# lockstep_bench_list(DIR OUT): OUT = the files DIR/name.c to build, as
# DIR-relative paths under bench/.  Fails configuring when the list names a
# file that is not there, or a file of DIR defines a benchmark the list does
# not name (it would silently not be built).
function(lockstep_bench_list dir out)
  set(list_file ${dir}/list.h)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${list_file})
  file(STRINGS ${list_file} lines REGEX "^(BENCH\\(|#ifdef |#endif)")
  set(sources)
  set(cond "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^#ifdef ([A-Za-z0-9_]+)$")
      set(cond ${CMAKE_MATCH_1})
    elseif(line MATCHES "^#endif")
      set(cond "")
    elseif(line MATCHES "^BENCH\\(([a-z0-9_]+)\\)$")
      set(name ${CMAKE_MATCH_1})
      if(NOT EXISTS ${dir}/${name}.c)
        message(FATAL_ERROR "bench/list.h names ${name}, but there is no bench/${name}.c")
      endif()
      set(wanted ON)
      if(NOT cond STREQUAL "")
        set(wanted ${${cond}})
      endif()
      if(wanted)
        list(APPEND sources bench/${name}.c)
      endif()
    else()
      message(FATAL_ERROR "bench/list.h: cannot read '${line}' (BENCH(name), #ifdef OPTION, #endif)")
    endif()
  endforeach()
  file(GLOB files RELATIVE ${dir} ${dir}/*.c)
  foreach(f IN LISTS files)
    file(STRINGS ${dir}/${f} defines REGEX "^const struct bench_ops bench_[a-z0-9_]+ =")
    get_filename_component(name ${f} NAME_WE)
    file(STRINGS ${list_file} listed REGEX "^BENCH\\(${name}\\)$")
    if(defines AND NOT listed)
      message(FATAL_ERROR "bench/${f} defines a benchmark that bench/list.h does not name: "
                          "add the line BENCH(${name})")
    endif()
  endforeach()
  set(${out} ${sources} PARENT_SCOPE)
endfunction()
