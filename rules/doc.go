// Package rules turns one normalised event (package event) into a Plan: the
// ordered, fully rendered RT steps (create, comment, correspond, link,
// unlink, edit) the executor runs, or an Ignore with its reason.
//
// Compile checks a rules: and templates: section (YAML nodes of the config
// file) and reports every problem as FILE:LINE:COL; it returns an immutable
// *RuleSet, compiled once (regexes, templates) and safe to share, so the
// daemon swaps it whole on reload. RuleSet.Evaluate reads nothing but the
// event and a read-only Ledger (correlation key → ticket) and does no I/O
// of its own; RuleSet.Keys tells the executor which keys to lock first.
//
// Matching: the first rule whose when: holds decides, unless it says
// continue. Field regexes (`~RE`) are RE2 and unanchored; Alertmanager
// label matchers (`name=~"RE"`) are anchored, as in Alertmanager.
// Templates are text/template with missingkey=error and a small function
// set; event data is only ever data, never template source. Single-line
// fields are folded to one line and cut with "…".
//
// The operator-facing schema is in docs/rules.md.
package rules
