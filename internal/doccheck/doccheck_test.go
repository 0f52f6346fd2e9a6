package doccheck

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	d := Parse("x.md", "Intro with `one` and `two\n  lines`.\n\n    $ rtbridge check\n    ok\n\n* a list item\n\n    continues the item, not code\n\n```yaml\nrt: {}\n```\n\n| what you see | why |\n|---|---|\n| `boom` | a \\| b |\n")
	var blocks []string
	for _, b := range d.Blocks {
		blocks = append(blocks, b.Where+" "+b.Lang+" "+b.Text())
	}
	if want := []string{"x.md:4 indented $ rtbridge check\nok\n", "x.md:12 yaml rt: {}\n"}; !reflect.DeepEqual(blocks, want) {
		t.Errorf("blocks %q, want %q", blocks, want)
	}
	if want := []Span{{"x.md:1", "one"}, {"x.md:1", "two lines"}, {"x.md:17", "boom"}}; !reflect.DeepEqual(d.Spans, want) {
		t.Errorf("spans %q, want %q", d.Spans, want)
	}
	if len(d.Rows) != 1 || d.Rows[0].Header[0] != "what you see" || d.Rows[0].Cells[1] != "a | b" {
		t.Errorf("rows %q", d.Rows)
	}
}

func TestMessagesExplains(t *testing.T) {
	m := NewMessages([]string{
		"imap login rejected",
		"%w: user %q on %s%s: %s",
		"RT breaker:     %s",
		"down: ",
		"create ticket",
		"%s: %w",
	})
	for s, want := range map[string]bool{
		`imap login rejected: user "demo" on 127.0.0.1:1143: …`: true, // ErrAuth wrapped by the format
		`RT breaker: open`:                       true,  // padding is one space in the manual
		`RT breaker: open and more words`:        false, // a verb stands for a value, not prose
		`create ticket: 403 imap login rejected`: true,  // "op: CODE cause"
		`RT: down`:                               false, // "%s: %w" alone explains nothing
		`imap login refused`:                     false,
	} {
		if got := m.Explains(s); got != want {
			t.Errorf("Explains(%q) = %v, want %v", s, got, want)
		}
	}
	if !m.Literal("create ticket") || m.Literal("create") {
		t.Error("Literal is not exact")
	}
}
