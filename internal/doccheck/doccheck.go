// Package doccheck reads what the manual (README.md and docs/*.md) shows:
// its code blocks, inline code and tables, each with its FILE:LINE, so that
// tests can hold every shown command, config snippet and message to the
// code that runs, loads or prints it.
package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Block is a code block: fenced (Lang from its info string, "" when none)
// or indented by four spaces (Lang "indented").
type Block struct {
	Where string   // FILE:LINE of its first line
	Lang  string   // "yaml", "perl", …; "indented" for an indented block
	Lines []string // without the fence or the indentation
}

// Text is the block's content.
func (b Block) Text() string { return strings.Join(b.Lines, "\n") + "\n" }

// Span is one piece of inline code (`…`) outside code blocks.
type Span struct {
	Where string
	Text  string
}

// Row is a table row: Header holds the cells of its table's header row.
type Row struct {
	Where  string
	Header []string
	Cells  []string
}

// Doc is one file of the manual.
type Doc struct {
	Path   string // relative to the repository root
	Blocks []Block
	Spans  []Span
	Rows   []Row
}

// Files lists the manual's files under root: docs/*.md, then README.md.
func Files(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, fmt.Errorf("list docs: %w", err)
	}
	return append(files, filepath.Join(root, "README.md")), nil
}

// ReadAll reads every file of the manual under root.
func ReadAll(root string) ([]Doc, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var docs []Doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read manual: %w", err)
		}
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return nil, fmt.Errorf("read manual: %w", err)
		}
		docs = append(docs, Parse(rel, string(b)))
	}
	return docs, nil
}

var (
	fenceRe = regexp.MustCompile("^( *)```(\\S*)")
	spanRe  = regexp.MustCompile("`([^`]+)`")
	listRe  = regexp.MustCompile(`^\s*([*-]|[0-9]+\.) `)
)

// Parse splits one Markdown file into its blocks, inline code and table
// rows. A run of lines indented by four spaces is a code block only after
// a blank line that follows a paragraph (not a list item or its
// continuation), as Markdown reads it.
func Parse(path, text string) Doc {
	d := Doc{Path: path}
	lines := strings.Split(text, "\n")
	var header []string
	inList := false
	prose := make([]string, len(lines)) // the lines outside code blocks
	for i := 0; i < len(lines); i++ {
		line, where := lines[i], fmt.Sprintf("%s:%d", path, i+1)
		if m := fenceRe.FindStringSubmatch(line); m != nil {
			b := Block{Where: fmt.Sprintf("%s:%d", path, i+2), Lang: m[2]}
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				b.Lines = append(b.Lines, strings.TrimPrefix(lines[i], m[1]))
			}
			d.Blocks = append(d.Blocks, b)
			continue
		}
		if strings.HasPrefix(line, "    ") && !inList && i > 0 && strings.TrimSpace(lines[i-1]) == "" {
			b := Block{Where: where, Lang: "indented"}
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "    ") || strings.TrimSpace(lines[i]) == "" && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ")); i++ {
				b.Lines = append(b.Lines, strings.TrimPrefix(lines[i], "    "))
			}
			i--
			d.Blocks = append(d.Blocks, b)
			continue
		}
		switch {
		case listRe.MatchString(line):
			inList = true
		case strings.TrimSpace(line) == "":
		case !strings.HasPrefix(line, " "):
			inList = false
		}
		prose[i] = line
		cells, ok := tableCells(line)
		switch {
		case !ok:
			header = nil
		case header == nil:
			header = cells
		case strings.Trim(strings.Join(cells, ""), "-: ") == "":
			// the |---|---| line
		default:
			d.Rows = append(d.Rows, Row{Where: where, Header: header, Cells: cells})
		}
	}
	d.Spans = spans(path, prose)
	return d
}

var breakRe = regexp.MustCompile(`\n\s*`)

// spans finds the inline code of the prose, also where it runs over a line
// break (not over a blank line).
func spans(path string, prose []string) []Span {
	text := strings.Join(prose, "\n")
	var out []Span
	for _, m := range spanRe.FindAllStringSubmatchIndex(text, -1) {
		code := text[m[2]:m[3]]
		if strings.Contains(code, "\n\n") || strings.Count(code, "\n") > 2 {
			continue
		}
		line := strings.Count(text[:m[0]], "\n") + 1
		out = append(out, Span{Where: fmt.Sprintf("%s:%d", path, line), Text: breakRe.ReplaceAllString(code, " ")})
	}
	return out
}

// tableCells splits a table line "| a | b |" into its cells; an escaped
// "\|" stays inside its cell.
func tableCells(line string) ([]string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "|") || !strings.HasSuffix(t, "|") || len(t) < 2 {
		return nil, false
	}
	t = strings.ReplaceAll(t[1:len(t)-1], `\|`, "\x00")
	var cells []string
	for _, c := range strings.Split(t, "|") {
		cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
	}
	return cells, true
}

// CodeIn returns the inline code of a table cell.
func CodeIn(cell string) []string {
	var out []string
	for _, m := range spanRe.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// Literals lists the string literals of the non-test Go source under root
// (test files and testdata left out): the messages, log keys and names the
// code can print.
func Literals(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := constString(n); ok {
				out = append(out, s)
				_, lit := n.(*ast.BasicLit)
				return !lit
			}
			return true
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	return out, nil
}

// constString is the value of a string literal, or of literals joined with
// + ("a "+"b", as long messages are written).
func constString(n ast.Node) (string, bool) {
	switch e := n.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		x, ok := constString(e.X)
		y, ok2 := constString(e.Y)
		return x + y, ok && ok2
	case *ast.ParenExpr:
		return constString(e.X)
	}
	return "", false
}
