package pgstore

// Kill stops the store as a kill -9 would: no lease is released, renewal
// just stops.
func (s *Store) Kill() {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		s.wg.Wait()
		s.pool.Close()
	})
}
