package templates

import "testing"

// The fast path implements eq, not, and and or as text/template's builtins.
func TestFuncMapKeepsBuiltinLogic(t *testing.T) {
	fm := funcMap(&regexCache{})
	for _, name := range []string{"eq", "not", "and", "or"} {
		if _, ok := fm[name]; ok {
			t.Errorf("funcMap redefines %q: fastexec.go must learn the new meaning first", name)
		}
	}
}
