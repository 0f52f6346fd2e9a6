package templates

import (
	"reflect"
	"strings"
	"text/template/parse"
)

// fastProg runs the common shape of a field template without
// text/template's reflective interpreter: literal text, {{ .Field }} of a
// string field of the data struct, {{ .Map.key }} of a map[string]string field, and
// {{ if }}/{{ else }} on such values combined with eq, not, and, or. It is
// an accelerator, never a second semantics: any other node compiles to a
// bail-out, and a run that reaches one (or a missing map key, which
// text/template reports as an error) returns ok=false so the caller runs
// text/template itself. Templates here are pure, so rerunning is safe.
//
// It relies on eq, not, and, or being text/template's builtins: funcMap
// must not redefine them (TestFuncMapKeepsBuiltinLogic).
type fastProg struct {
	nodes []fastNode
	data  reflect.Type // pointer to the struct the program was compiled for
}

// fastCompiler compiles for one data type, a struct.
type fastCompiler struct{ data reflect.Type }

type fastOp uint8

const (
	fastBail  fastOp = iota // not in the subset: let text/template run
	fastText                // literal text
	fastValue               // print expr
	fastIf                  // if expr then else
)

type fastNode struct {
	op        fastOp
	text      string
	expr      *fastExpr
	then, els []fastNode
}

type exprOp uint8

const (
	exprField    exprOp = iota // string field of the data struct
	exprMapField               // map[string]string field of the data struct, one key
	exprString                 // string constant
	exprEq                     // eq a b…: strings only
	exprNot
	exprAnd
	exprOr
)

type fastExpr struct {
	op    exprOp
	field int    // field index in the data struct
	str   string // key or constant
	args  []*fastExpr
}

var (
	stringType    = reflect.TypeFor[string]()
	stringMapType = reflect.TypeFor[map[string]string]()
)

// compileFast returns the fast program of a parse tree, or nil when the
// template has no part in the subset worth running fast.
func compileFast(tree *parse.Tree, data reflect.Type) *fastProg {
	if tree == nil || tree.Root == nil || data == nil || data.Kind() != reflect.Struct {
		return nil
	}
	c := fastCompiler{data: data}
	nodes := c.fastList(tree.Root)
	if len(nodes) == 1 && nodes[0].op == fastBail {
		return nil
	}
	return &fastProg{nodes: nodes, data: reflect.PointerTo(data)}
}

func (c fastCompiler) fastList(l *parse.ListNode) []fastNode {
	if l == nil {
		return nil
	}
	out := make([]fastNode, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		out = append(out, c.fastCompileNode(n))
	}
	return out
}

func (c fastCompiler) fastCompileNode(n parse.Node) fastNode {
	bail := fastNode{op: fastBail}
	switch x := n.(type) {
	case *parse.TextNode:
		return fastNode{op: fastText, text: string(x.Text)}
	case *parse.CommentNode:
		return fastNode{op: fastText}
	case *parse.ActionNode:
		e := c.fastPipe(x.Pipe)
		if e == nil || !e.isString() {
			return bail
		}
		return fastNode{op: fastValue, expr: e}
	case *parse.IfNode:
		e := c.fastPipe(x.Pipe)
		if e == nil {
			return bail
		}
		return fastNode{op: fastIf, expr: e, then: c.fastList(x.List), els: c.fastList(x.ElseList)}
	}
	return bail
}

// fastPipe compiles a pipeline of one command without declarations.
func (c fastCompiler) fastPipe(p *parse.PipeNode) *fastExpr {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 {
		return nil
	}
	args := p.Cmds[0].Args
	if len(args) == 1 {
		return c.fastOperand(args[0])
	}
	id, ok := args[0].(*parse.IdentifierNode)
	if !ok {
		return nil
	}
	var ops []*fastExpr
	for _, a := range args[1:] {
		e := c.fastOperand(a)
		if e == nil {
			return nil
		}
		ops = append(ops, e)
	}
	switch id.Ident {
	case "eq":
		for _, e := range ops {
			if !e.isString() {
				return nil // text/template compares other kinds by its own rules
			}
		}
		return &fastExpr{op: exprEq, args: ops}
	case "not":
		if len(ops) != 1 {
			return nil
		}
		return &fastExpr{op: exprNot, args: ops}
	case "and", "or":
		op := exprAnd
		if id.Ident == "or" {
			op = exprOr
		}
		return &fastExpr{op: op, args: ops}
	}
	return nil
}

func (c fastCompiler) fastOperand(n parse.Node) *fastExpr {
	switch x := n.(type) {
	case *parse.StringNode:
		return &fastExpr{op: exprString, str: x.Text}
	case *parse.PipeNode:
		return c.fastPipe(x)
	case *parse.FieldNode:
		return c.fastField(x.Ident)
	}
	return nil
}

// fastField resolves .Name (a string field) or .Name.key (a string map
// field) on the data struct exactly as text/template would: methods win over fields,
// so a name that is also a method is left to text/template.
func (c fastCompiler) fastField(ident []string) *fastExpr {
	if len(ident) == 0 || len(ident) > 2 {
		return nil
	}
	if _, ok := reflect.PointerTo(c.data).MethodByName(ident[0]); ok {
		return nil
	}
	f, ok := c.data.FieldByName(ident[0])
	if !ok || !f.IsExported() || len(f.Index) != 1 {
		return nil
	}
	switch {
	case len(ident) == 1 && f.Type == stringType:
		return &fastExpr{op: exprField, field: f.Index[0]}
	case len(ident) == 2 && f.Type == stringMapType:
		return &fastExpr{op: exprMapField, field: f.Index[0], str: ident[1]}
	}
	return nil
}

// isString says the expression yields a string (the others yield bool or
// one of their operands).
func (e *fastExpr) isString() bool {
	return e.op == exprField || e.op == exprMapField || e.op == exprString
}

// fastVal is a value: a string, or a bool when isBool.
type fastVal struct {
	s      string
	b      bool
	isBool bool
}

func (v fastVal) truth() bool {
	if v.isBool {
		return v.b
	}
	return v.s != ""
}

func (e *fastExpr) eval(d reflect.Value) (fastVal, bool) {
	switch e.op {
	case exprField:
		return fastVal{s: d.Field(e.field).String()}, true
	case exprMapField:
		m, _ := d.Field(e.field).Interface().(map[string]string)
		s, ok := m[e.str]
		return fastVal{s: s}, ok // missing: text/template's error, from text/template
	case exprString:
		return fastVal{s: e.str}, true
	case exprEq:
		// eq is an ordinary call: every operand is evaluated first.
		if len(e.args) < 2 {
			return fastVal{}, false
		}
		first, ok := e.args[0].eval(d)
		eq := false
		for _, a := range e.args[1:] {
			v, vok := a.eval(d)
			ok = ok && vok
			eq = eq || v.s == first.s
		}
		return fastVal{b: eq, isBool: true}, ok
	case exprNot:
		v, ok := e.args[0].eval(d)
		return fastVal{b: !v.truth(), isBool: true}, ok
	case exprAnd, exprOr:
		// Only the truth of and/or is used (isString is false for them),
		// and they stop at the first operand that decides it, as
		// text/template does.
		want := e.op == exprOr
		for _, a := range e.args {
			v, ok := a.eval(d)
			if !ok {
				return fastVal{}, false
			}
			if v.truth() == want {
				return fastVal{b: want, isBool: true}, true
			}
		}
		return fastVal{b: !want, isBool: true}, len(e.args) > 0
	}
	return fastVal{}, false
}

// exec renders the program; ok=false means "run text/template instead".
// The result matches limitWriter: at most limit bytes, truncated when the
// template produced more.
func (p *fastProg) exec(data any, limit int) (s string, truncated, ok bool) {
	d := reflect.ValueOf(data)
	if !d.IsValid() || d.Type() != p.data || d.IsNil() {
		return "", false, false
	}
	var buf [8]string
	parts, ok := p.run(p.nodes, d.Elem(), buf[:0])
	if !ok {
		return "", false, false
	}
	switch len(parts) {
	case 0:
	case 1:
		s = parts[0]
	default:
		s = strings.Join(parts, "")
	}
	if len(s) > limit {
		return s[:max(limit, 0)], true, true
	}
	return s, false, true
}

func (p *fastProg) run(nodes []fastNode, d reflect.Value, parts []string) ([]string, bool) {
	for i := range nodes {
		n := &nodes[i]
		switch n.op {
		case fastText:
			if n.text != "" {
				parts = append(parts, n.text)
			}
		case fastValue:
			v, ok := n.expr.eval(d)
			if !ok {
				return nil, false
			}
			if v.s != "" {
				parts = append(parts, v.s)
			}
		case fastIf:
			v, ok := n.expr.eval(d)
			if !ok {
				return nil, false
			}
			branch := n.els
			if v.truth() {
				branch = n.then
			}
			if parts, ok = p.run(branch, d, parts); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return parts, true
}
