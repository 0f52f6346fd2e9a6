// Package templates is the engine of the rule set's template fields:
// text/template with the documented function set (NewRoot), failing on a
// missing map key, bounded in output (each field's limit) and in work (a
// budget of loop iterations, template calls and time, InsertTicks), with
// single-line folding and cutting (Line, LineBytes, FoldLine) and
// multi-line cleaning (Text). It knows nothing of the data it renders: a
// field compiled for a struct type (New) runs its common shape (fields,
// one map key, if/eq/not/and/or) without reflection, and anything else
// through text/template.
package templates
