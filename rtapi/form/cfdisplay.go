package form

// SplitCFDisplay splits the value RT shows for a multi-value custom field
// (ticket/<id>/show, search format=l): RT joins the values with "," and
// single-quotes a value that contains a comma, escaping "\" and "'" with a
// backslash. Unlike splitCFValues (RT's vsplit, which reads what clients
// send) it never splits on line ends: RT never puts one between values, so a
// line end belongs to a value. A single-value field's text must not be split
// at all.
func SplitCFDisplay(v string) []string {
	var items []string
	for hasNonSpace(v) {
		var item string
		item, v = vsplitItem(v, true)
		items = append(items, item)
	}
	return items
}
