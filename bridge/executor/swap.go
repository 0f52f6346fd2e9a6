package executor

// rtBox holds the current RT client (atomic.Pointer needs a concrete type).
type rtBox struct{ RT }

// SetRT replaces the RT client, e.g. with one built from rotated
// credentials on a reload. Requests in flight finish on the client they
// started with; every request after this uses rt.
func (x *Executor) SetRT(rt RT) {
	if rt != nil {
		x.rtc.Store(&rtBox{rt})
	}
}

// rt is the RT client to use for the next request.
func (x *Executor) rt() RT {
	if b := x.rtc.Load(); b != nil {
		return b.RT
	}
	return x.o.RT
}
