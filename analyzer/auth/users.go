package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// User is an account.
type User struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	Disabled          bool       `json:"disabled"`
	CreatedAt         time.Time  `json:"created_at"`
	PasswordChangedAt time.Time  `json:"password_changed_at"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
}

// Users is the users table.
type Users struct {
	db   *sql.DB
	cost int

	dummyOnce sync.Once
	dummy     string // a hash to compare against for unknown users
}

// NewUsers returns the users table behind db; cost is the bcrypt cost of
// new hashes (0: DefaultCost).
func NewUsers(db *sql.DB, cost int) *Users {
	if cost == 0 {
		cost = DefaultCost
	}
	return &Users{db: db, cost: cost}
}

const userCols = "id, name, role, disabled, created_at, password_changed_at, last_login_at"

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	var last sql.NullTime
	dst := append([]any{&u.ID, &u.Name, &u.Role, &u.Disabled, &u.CreatedAt, &u.PasswordChangedAt, &last}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return u, err
	}
	if last.Valid {
		t := last.Time
		u.LastLoginAt = &t
	}
	return u, nil
}

// Create adds a user.
func (us *Users) Create(ctx context.Context, name, role, password string) (User, error) {
	if err := ValidName(name); err != nil {
		return User{}, err
	}
	if !ValidRole(role) {
		return User{}, fmt.Errorf("auth: %q: %w", role, ErrBadRole)
	}
	h, err := HashPassword(password, us.cost)
	if err != nil {
		return User{}, err
	}
	_, err = us.db.ExecContext(ctx, "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?)", name, role, h)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1062 {
		return User{}, fmt.Errorf("auth: create %q: %w", name, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: create %q: %w", name, err)
	}
	return us.Get(ctx, name)
}

// Get returns the user called name (case-insensitive).
func (us *Users) Get(ctx context.Context, name string) (User, error) {
	u, err := scanUser(us.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("auth: %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: get %q: %w", name, err)
	}
	return u, nil
}

// List returns every user, by name.
func (us *Users) List(ctx context.Context) ([]User, error) {
	rows, err := us.db.QueryContext(ctx, "SELECT "+userCols+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	return out, nil
}

// Authenticate checks a name and password. It takes about as long for an
// unknown name as for a wrong password, so that timing does not reveal
// which names exist. A disabled account with the right password yields
// ErrDisabled; every other failure ErrBadCredentials.
func (us *Users) Authenticate(ctx context.Context, name, password string) (User, error) {
	var hash string
	u, err := scanUser(us.db.QueryRowContext(ctx, "SELECT "+userCols+", password_hash FROM users WHERE name = ?", name), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		us.dummyOnce.Do(func() { us.dummy, _ = HashPassword("not-a-password-of-anyone", us.cost) })
		CheckPassword(us.dummy, password)
		return User{}, fmt.Errorf("auth: %w", ErrBadCredentials)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: look up %q: %w", name, err)
	}
	if !CheckPassword(hash, password) {
		return User{}, fmt.Errorf("auth: %w", ErrBadCredentials)
	}
	if u.Disabled {
		return User{}, fmt.Errorf("auth: %q: %w", u.Name, ErrDisabled)
	}
	if _, err := us.db.ExecContext(ctx, "UPDATE users SET last_login_at = UTC_TIMESTAMP(6) WHERE id = ?", u.ID); err != nil {
		return User{}, fmt.Errorf("auth: record login of %q: %w", u.Name, err)
	}
	return u, nil
}

// SetPassword replaces a user's password.
func (us *Users) SetPassword(ctx context.Context, name, password string) error {
	h, err := HashPassword(password, us.cost)
	if err != nil {
		return err
	}
	return us.update(ctx, name, "password_hash = ?, password_changed_at = UTC_TIMESTAMP(6)", h)
}

// SetRole changes a user's role. The last enabled admin keeps the role.
func (us *Users) SetRole(ctx context.Context, name, role string) error {
	if !ValidRole(role) {
		return fmt.Errorf("auth: %q: %w", role, ErrBadRole)
	}
	if role != RoleAdmin {
		if err := us.keepAnAdmin(ctx, name); err != nil {
			return err
		}
	}
	return us.update(ctx, name, "role = ?", role)
}

// SetDisabled disables or enables a user. The last enabled admin cannot
// be disabled.
func (us *Users) SetDisabled(ctx context.Context, name string, disabled bool) error {
	if disabled {
		if err := us.keepAnAdmin(ctx, name); err != nil {
			return err
		}
	}
	return us.update(ctx, name, "disabled = ?", disabled)
}

// keepAnAdmin refuses when name is the only enabled admin.
func (us *Users) keepAnAdmin(ctx context.Context, name string) error {
	var others int
	err := us.db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM users WHERE role = ? AND disabled = FALSE AND name <> ?", RoleAdmin, name).Scan(&others)
	if err != nil {
		return fmt.Errorf("auth: count admins: %w", err)
	}
	u, err := us.Get(ctx, name)
	if err != nil {
		return err
	}
	if u.Role == RoleAdmin && !u.Disabled && others == 0 {
		return fmt.Errorf("auth: %q: %w", name, ErrLastAdmin)
	}
	return nil
}

func (us *Users) update(ctx context.Context, name, set string, arg any) error {
	res, err := us.db.ExecContext(ctx, "UPDATE users SET "+set+" WHERE name = ?", arg, name)
	if err != nil {
		return fmt.Errorf("auth: update %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// RowsAffected is 0 also when nothing changed: tell the two apart.
		if _, err := us.Get(ctx, name); err != nil {
			return err
		}
	}
	return nil
}
