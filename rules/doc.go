// Package rules turns one normalised event (package event) into a
// plan.Plan: the ordered, fully rendered RT steps the executor runs, or an
// Ignore with its reason. *RuleSet is a plan.Planner.
//
// Compile checks a rules: and templates: section (YAML nodes of the config
// file) and reports every problem as FILE:LINE:COL; it returns an immutable
// *RuleSet, compiled once (regexes, templates) and safe to share, so the
// daemon swaps it whole on reload. Evaluate is pure: it reads the event and
// the plan.Facts the executor read first (the ledger entries of Keys, RT's
// status of the tickets NeedStatus named). Label matchers are parsed by
// rules/labelmatch, alert lifecycles decided by rules/lifecycle.
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
