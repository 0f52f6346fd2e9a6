package config

// validateHMACReplay refuses the grafana style without timestamp_header:
// only a signed timestamp bounds how long a captured notification stays
// valid.
func (d *decoder) validateHMACReplay(a Auth, p string) {
	if h := a.HMAC; h != nil && h.Style == "grafana" && h.TimestampHeader == "" {
		d.errorf(d.at(p+".hmac"), p+".hmac", "the grafana style needs timestamp_header (Grafana's HMAC timestamp header, "+
			"e.g. X-Grafana-Alerting-Signature-Timestamp); without a signed timestamp a captured notification can be replayed at any time")
	}
}
