/* test_report.c — the report's table model (report_table.h): one table
 * written as the terminal's fixed-width columns, a Markdown pipe table and
 * an HTML table, with the widths, short rows, notes, emphasis, classes and
 * escaping each format has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/report_table.h"

static const struct rcol s_cols[] = {
    { "name", NULL, NULL, -6, 0, false, false },
    { "value", "val", "v", 5, 0, true, false },
    { "range", NULL, NULL, -7, 0, true, true },
    { "check", NULL, NULL, 0, 1, false, false },
};

static struct rtable *s_table(bool html_class)
{
    struct rtable *t = rtable_new(s_cols, 4, html_class);
    assert_non_null(t);
    rtable_row(t, NULL);
    rtable_cell(t, "a|b", NULL, false);
    rtable_cellf(t, "%d", 42);
    rtable_cell(t, "1-2", NULL, false);
    rtable_cell(t, "OFF <1>", "refuted", true);
    rtable_note(t, RT_IN(RFMT_TEXT) | RT_IN(RFMT_HTML), "off", "refuted", "why & how");
    rtable_row(t, NULL);
    rtable_cell(t, "c", NULL, false);
    rtable_cell(t, "-", NULL, false);
    rtable_cell(t, "nothing measured", NULL, false); /* a short row ends here */
    rtable_note(t, RT_IN(RFMT_HTML), NULL, NULL, "html only");
    return t;
}

static char *s_write(bool html_class, rfmt_t fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct rtable *t = s_table(html_class);
    rtable_write(t, fmt, out);
    rtable_destroy(&t);
    assert_null(t);
    fclose(out);
    return buf;
}

static void test_text(void **state)
{
    (void)state;
    char *s = s_write(false, RFMT_TEXT);
    assert_string_equal(s, "  name       v range    check\n"
                           "  a|b       42 1-2      OFF <1>\n"
                           "    why & how\n"
                           "  c          - nothing measured\n");
    free(s);
}

static void test_markdown(void **state)
{
    (void)state;
    char *s = s_write(false, RFMT_MD);
    assert_string_equal(s, "| name | val | range | check |\n"
                           "| --- | ---: | --- | --- |\n"
                           "| a\\|b | 42 | 1-2 | **OFF <1>** |\n"
                           "| c | - | nothing measured |\n");
    free(s);
}

static void test_html(void **state)
{
    (void)state;
    char *s = s_write(false, RFMT_HTML);
    assert_string_equal(
        s, "<table><tr><th>name</th><th>value</th><th>range</th><th>check</th></tr>\n"
           "<tr><td class=\"l\">a|b</td><td>42</td><td>1-2</td>"
           "<td class=\"l refuted\">OFF &lt;1&gt;</td></tr>\n"
           "<tr class=\"off\"><td class=\"l refuted\" colspan=\"4\">why &amp; how</td></tr>\n"
           "<tr><td class=\"l\">c</td><td>-</td><td>nothing measured</td></tr>\n"
           "<tr><td class=\"l\" colspan=\"4\">html only</td></tr>\n"
           "</table>\n");
    free(s);
    /* the sections that always wrote class="" on number cells */
    s = s_write(true, RFMT_HTML);
    assert_non_null(strstr(s, "<td class=\"l\">a|b</td><td class=\"\">42</td>"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
