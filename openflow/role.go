package openflow

import (
	"fmt"
	"strconv"
)

// ControllerRole is ofp_controller_role.
type ControllerRole uint32

// Controller roles.
const (
	RoleNoChange ControllerRole = 0
	RoleEqual    ControllerRole = 1
	RoleMaster   ControllerRole = 2
	RoleSlave    ControllerRole = 3
)

func (r ControllerRole) String() string {
	switch r {
	case RoleNoChange:
		return "nochange"
	case RoleEqual:
		return "equal"
	case RoleMaster:
		return "master"
	case RoleSlave:
		return "slave"
	}
	return "role" + strconv.Itoa(int(r))
}

// Role is the body shared by ROLE_REQUEST and ROLE_REPLY. GenerationID
// orders master elections; the switch rejects stale ones.
type Role struct {
	Role         ControllerRole
	GenerationID uint64
}

func (r Role) appendBody(b []byte) []byte {
	b = be.AppendUint32(b, uint32(r.Role))
	b = pad4(b)
	return be.AppendUint64(b, r.GenerationID)
}

func (r *Role) decode(t MsgType, body []byte) error {
	if len(body) != 16 {
		return fmt.Errorf("%w: %s body is %d bytes, want 16", ErrBadLength, t, len(body))
	}
	*r = Role{Role: ControllerRole(be.Uint32(body)), GenerationID: be.Uint64(body[8:])}
	return nil
}

// RoleRequest (OFPT_ROLE_REQUEST) asks to become master, slave or equal.
type RoleRequest struct{ Role }

// RoleReply (OFPT_ROLE_REPLY) confirms the role.
type RoleReply struct{ Role }

// Type implements Message.
func (*RoleRequest) Type() MsgType { return TypeRoleRequest }

// AppendBody implements Message.
func (m *RoleRequest) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *RoleRequest) UnmarshalBody(body []byte) error { return m.decode(TypeRoleRequest, body) }

// Type implements Message.
func (*RoleReply) Type() MsgType { return TypeRoleReply }

// AppendBody implements Message.
func (m *RoleReply) AppendBody(b []byte) ([]byte, error) { return m.appendBody(b), nil }

// UnmarshalBody implements Message.
func (m *RoleReply) UnmarshalBody(body []byte) error { return m.decode(TypeRoleReply, body) }
