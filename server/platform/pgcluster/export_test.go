package pgcluster

import "context"

// ReleaseForTest drops the supervisor lock without stopping the server, as a crash would.
func (c *Cluster) ReleaseForTest() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owned = false
	if c.supervisor != nil {
		c.supervisor.Close()
		c.supervisor = nil
	}
}

// Running reports whether a server runs on c's data directory.
func Running(ctx context.Context, c *Cluster) (bool, error) { return c.running(ctx) }
