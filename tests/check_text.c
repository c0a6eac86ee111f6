/*
 * The text file's rules: HTML rendered (blocks, lists, tables,
 * entities, charsets, links, images; script, style and head dropped;
 * broken and deep markup survived), and of messages the choice among
 * alternatives and the list of attachments, through the tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

static char got[1 << 16];

static const char *
render(const char *html, const char *charset)
{
	Buf b = { 0 };

	part_init();	/* GMime's charset tables */
	html_text(&b, html, strlen(html), charset);
	snprintf(got, sizeof got, "%s", b.p ? b.p : "");
	buffree(&b);
	return got;
}

#define RENDERS(html, want) ck_assert_str_eq(render(html, NULL), want)

START_TEST(blocks)
{
	RENDERS("<p>one</p><div>two</div><h1>three</h1>after", "one\n\ntwo\n\nthree\n\nafter\n");
	RENDERS("<p>  spread \n\t over   lines </p>", "spread over lines\n");
	RENDERS("a<br>b<br><br>c", "a\nb\n\nc\n");
	RENDERS("<p>x</p><hr><p>y</p>", "x\n\n----------\n\ny\n");
	RENDERS("<pre>  keep\n    this</pre>", "  keep\n    this\n");
	RENDERS("<p>x</p><blockquote><p>q1</p><p>q2</p></blockquote>", "x\n\n> q1\n>\n> q2\n");
	RENDERS("", "");
	RENDERS("<p> &nbsp; </p>", "");
}
END_TEST

START_TEST(lists_and_tables)
{
	RENDERS("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "* a\n  * b\n* c\n");
	RENDERS("<ol start=4><li>x<li>y</ol>", "4. x\n5. y\n");
	RENDERS("<ol><li>first<p>more of it</p></li><li>second</ol>", "1. first\n\n   more of it\n\n2. second\n");
	RENDERS("<table><tr><th>A<th>B<tr><td>1<td>2</table>", "A | B\n1 | 2\n");
	RENDERS("<table><tr><td>&nbsp;</td><td>only</td></tr></table>", "only\n");
}
END_TEST

START_TEST(entities_and_charsets)
{
	RENDERS("&amp;&lt;&gt;&quot;&eacute;&#233;&#x20AC; a&nbsp;b", "&<>\"éé€ a b\n");
	RENDERS("soft&shy;hyphen zero&#8203;width&zwnj;", "softhyphen zerowidth\n");
	/* KOI8-R "Привет", declared by <meta> only */
	RENDERS("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\"><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>",
		"Привет\n");
	RENDERS("<meta charset='windows-1251'>\xcf\xf0\xe8\xe2\xe5\xf2", "Привет\n");
	/* the MIME type's charset wins over the <meta> */
	ck_assert_str_eq(render("<meta charset=windows-1251>\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r"), "Привет\n");
	/* nothing declared: UTF-8 when valid, else Latin-1 */
	RENDERS("caf\xc3\xa9", "café\n");
	RENDERS("caf\xe9", "café\n");
	RENDERS("<meta charset=x-no-such-charset>caf\xc3\xa9", "café\n");
}
END_TEST

START_TEST(dropped)
{
	RENDERS("<html><head><title>Title</title><style>p{color:red}</style></head>"
		"<body><script>alert(1)</script>shown<style>x{}</style><template>t</template></body></html>", "shown\n");
	RENDERS("<div style=\"DISPLAY: none\">preheader</div><p hidden>h</p><!-- note -->seen", "seen\n");
	RENDERS("<span style=\"color: #999; font-size: 1px; line-height: 1px; max-height: 0; max-width: 0; opacity: 0; "
		"overflow: hidden; mso-hide: all; font-family: Arial, Helvetica, sans-serif; padding: 0 0 0 0; "
		"margin: 0 0 0 0; border: 0 none; text-decoration: none; letter-spacing: 0; display : None\">late</span>"
		"<span style=\"display:inline\">shown</span>", "shown\n");
	RENDERS("<script>var a = '</p>';</script>after", "after\n");
}
END_TEST

START_TEST(links_and_images)
{
	RENDERS("<a href=\"https://a.example/\">one</a> <a href=\"u2\">two</a> <a href=\"https://a.example/\">again</a> "
		"<a href=\"#top\">top</a> <a href=\"javascript:go()\">js</a> <a href=\"u3\"></a>",
		"one [1] two [2] again [1] top js\n\n[1] https://a.example/\n[2] u2\n");
	RENDERS("<img alt=\"Logo\"> <img src=x alt=\"\"><img src=pixel.gif>", "Logo\n");
	RENDERS("<a href=\"https://shop.example/\"><img alt=\"Shop\"></a>", "Shop [1]\n\n[1] https://shop.example/\n");
}
END_TEST

START_TEST(broken_and_deep)
{
	RENDERS("<p>a <b>bold <i>both</b> italic</i> 1 < 2 & 3 <p>next", "a bold both italic 1 < 2 & 3\n\nnext\n");
	RENDERS("<table><tr><td>9:00<td>Intro<tr><td>9:30<td>Budget</table>", "9:00 | Intro\n9:30 | Budget\n");
	RENDERS("<!-- never closed", "");
	RENDERS("</p></div></li>stray closers<li", "stray closers\n");

	/* nesting past any stack: the text is still there, nothing overflows */
	enum { Deep = 100000 };
	Buf html = { 0 }, out = { 0 };
	part_init();
	for (int i = 0; i < Deep; i++)
		bufputs(&html, i % 3 == 0 ? "<div>" : i % 3 == 1 ? "<ul><li>" : "<blockquote>");
	bufputs(&html, "bottom");
	html_text(&out, html.p, html.n, NULL);
	ck_assert_msg(out.p && strstr(out.p, "bottom\n"), "deep text lost");
	buffree(&html);
	buffree(&out);
}
END_TEST

static int
contains(const char *path, const char *s)
{
	Blob *b = tfile(path);

	ck_assert_msg(b != NULL, "%s: %s", path, errmsg());
	int r = memmem(b->p, b->n, s, strlen(s)) != NULL;
	blobunref(b);
	return r;
}

/* the rules of a message's text, named one by one (the exact outputs are in testdata/expected) */
START_TEST(messages)
{
	ck_assert(contains("html/3/text", "December statement"));	/* a stub beside HTML: the HTML */
	ck_assert(!contains("html/3/text", "open it in a browser"));
	ck_assert(contains("html/8/text", "The album is up"));	/* an empty plain part: the HTML */
	ck_assert(contains("html/6/text", "could you let him in?"));	/* a real plain part: it, flowed */
	ck_assert(!contains("html/6/text", "<p>"));
	ck_assert(contains("sample/3/text", "Read more: https://www.example.com/blog/2.0"));	/* plain, not the HTML */
	ck_assert(contains("html/2/text", "Здравствуйте, Алиса!"));	/* charset from the <meta> alone */
	ck_assert(!contains("html/5/text", "do not show"));	/* script */
	ck_assert(contains("html/5/text", "Attachments:\n3\tapplication/pdf\tticket-8812.pdf\t"));
	ck_assert(contains("html/1/text", "\n2\timage/png\tlogo.png\t463\n"));	/* related: its image listed */
	ck_assert(contains("html/7/text", "\n2\tmessage/rfc822\t-\t"));	/* a forward: listed, and its own text */
	ck_assert(contains("html/7/2/text", "volunteers for the café stand"));
	ck_assert(contains("mixed/4/text", "\n2\ttext/plain\tlegacy-name-only.txt\t"));	/* named: an attachment */
	ck_assert(contains("mixed/4/text", "An inline part that still carries a file name."));
	Blob *b = tfile("html/1/2/text");	/* an image has no text */
	ck_assert(b && b->n == 0);
	blobunref(b);
	b = tfile("html/1/body");	/* body stays what it was */
	ck_assert(b && memmem(b->p, b->n, "--rel-1", 7) != NULL);
	blobunref(b);
}
END_TEST

Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *t = tcase_create("rules");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, blocks);
	tcase_add_test(t, lists_and_tables);
	tcase_add_test(t, entities_and_charsets);
	tcase_add_test(t, dropped);
	tcase_add_test(t, links_and_images);
	tcase_add_test(t, broken_and_deep);
	tcase_add_test(t, messages);
	suite_add_tcase(s, t);
	return s;
}
