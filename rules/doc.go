// Package rules turns one normalised event into a plan of RT actions.
//
// The full schema is in SCHEMA.md (merged into README and
// config.example.yaml). This comment will grow with the engine.
package rules
