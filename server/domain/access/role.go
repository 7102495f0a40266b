// Package access defines who may do what in a workspace: the four roles and the bearer
// tokens that carry them. The HTTP edge (server/edge/auth) checks them on each request; the
// admin commands issue them.
package access

import "fmt"

// Role is what a member may do in a workspace. Each role includes the ones below it:
// owner > admin > operator > viewer.
type Role string

const (
	Owner    Role = "owner"
	Admin    Role = "admin"
	Operator Role = "operator"
	Viewer   Role = "viewer"
)

var rank = map[Role]int{Viewer: 1, Operator: 2, Admin: 3, Owner: 4}

// ParseRole accepts the four role names.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := rank[r]; !ok {
		return "", fmt.Errorf("unknown role %q (want owner, admin, operator or viewer)", s)
	}
	return r, nil
}

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return rank[r] >= rank[min] && rank[min] > 0 }
