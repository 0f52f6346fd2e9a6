package rules

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/rules/templates"
)

// dataType is what every field template is executed with.
var dataType = reflect.TypeFor[Data]()

// compileTmpl parses src as an associated template of the rule set's root
// (so it can call named templates). define/block are refused outside the
// templates: section, and every {{ template "name" }} must exist.
func (c *compiler) compileTmpl(n *yaml.Node, what string) *templates.Template {
	src, ok := c.ps.scalar(n, what)
	if !ok {
		return nil
	}
	pos := fmt.Sprintf("rule %q %s", c.ps.rule, what)
	if !strings.Contains(src, "{{") {
		return templates.Const(src, pos)
	}
	c.seq++
	name := fmt.Sprintf("%s#%d", what, c.seq)
	before := len(c.root.Templates())
	pt, err := c.root.New(name).Parse(src)
	if err != nil {
		c.ps.errorf(n, "bad template in %s: %v", what, templates.CleanErr(err, name))
		return nil
	}
	if len(c.root.Templates()) != before+1 {
		c.ps.errorf(n, "bad template in %s: define/block belong in the templates: section", what)
		return nil
	}
	for _, ref := range templates.Refs(pt.Tree.Root) {
		if c.named[ref] == nil {
			c.ps.errorf(n, "template %s calls unknown template %q", what, ref)
			return nil
		}
	}
	c.checkFields(resolve(n), src, pt.Tree, c.kinds, what)
	t := templates.New(pt, src, pos, dataType)
	templates.InsertTicks(pt.Tree.Root, false)
	return t
}
