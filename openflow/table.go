package openflow

import "fmt"

// Table ids with a special meaning.
const (
	TableMax uint8 = 0xfe // last usable table
	TableAll uint8 = 0xff // wildcard in flow deletes and stats requests
)

// TableConfig is ofp_table_config; 1.3 only keeps the deprecated bits.
type TableConfig uint32

// TableConfigDeprecatedMask covers the table-miss bits of OpenFlow 1.1/1.2.
const TableConfigDeprecatedMask TableConfig = 3

// TableMod (OFPT_TABLE_MOD) configures a table.
type TableMod struct {
	TableID uint8
	Config  TableConfig
}

// Type implements Message.
func (*TableMod) Type() MsgType { return TypeTableMod }

// AppendBody implements Message.
func (m *TableMod) AppendBody(b []byte) ([]byte, error) {
	b = append(b, m.TableID, 0, 0, 0)
	return be.AppendUint32(b, uint32(m.Config)), nil
}

// UnmarshalBody implements Message.
func (m *TableMod) UnmarshalBody(body []byte) error {
	if len(body) != 8 {
		return fmt.Errorf("%w: table mod body is %d bytes, want 8", ErrBadLength, len(body))
	}
	*m = TableMod{TableID: body[0], Config: TableConfig(be.Uint32(body[4:]))}
	return nil
}
