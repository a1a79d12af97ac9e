package etcdhealth

// Apply records one round of probe results, as Run does.
func (c *Checker) Apply(ok []bool) { c.apply(ok, make([]error, len(ok))) }

// InUse is the endpoints the client uses now.
func (c *Checker) InUse() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.use()
}
