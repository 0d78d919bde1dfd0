package app

import (
	"context"
	"database/sql"
	"time"

	"outpost/backend/auth"
)

// The admin area: accounts, settings, alerts. Every method needs an
// administrator (or, for alerts, a security officer) session: the
// permission table in backend/auth decides, through methodPerms.

// UserInfo is an account as the admin area lists it.
type UserInfo struct {
	ID                string   `json:"id"`
	Username          string   `json:"username"`
	Name              string   `json:"name"`
	Roles             []string `json:"roles"`
	Disabled          bool     `json:"disabled"`
	DisabledReason    string   `json:"disabledReason"`
	LockedUntil       string   `json:"lockedUntil"`
	MFAEnabled        bool     `json:"mfaEnabled"`
	LastLogin         string   `json:"lastLogin"`
	TemporaryPassword bool     `json:"temporaryPassword"`
	Created           string   `json:"created"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func userInfo(acc auth.Account) UserInfo {
	return UserInfo{ID: acc.ID, Username: acc.Username, Name: acc.Name, Roles: acc.Roles, Disabled: acc.Disabled,
		DisabledReason: acc.DisabledReason, LockedUntil: rfc3339(acc.LockedUntil), MFAEnabled: acc.MFAEnabled,
		LastLogin: rfc3339(acc.LastLogin), TemporaryPassword: acc.TempPassword, Created: rfc3339(acc.Created)}
}

// ListUsers returns every account.
func (a *App) ListUsers() ([]UserInfo, error) {
	c, err := a.begin("ListUsers")
	if err != nil {
		return nil, err
	}
	accs, err := c.svc.Users.ListUsers(c.ctx)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListUsers", err)
	}
	out := make([]UserInfo, 0, len(accs))
	for _, acc := range accs {
		out = append(out, userInfo(acc))
	}
	return out, nil
}

// NewUserRequest creates an account with a temporary password.
type NewUserRequest struct {
	Username          string   `json:"username"`
	Name              string   `json:"name"`
	Roles             []string `json:"roles"`
	TemporaryPassword string   `json:"temporaryPassword"`
}

// CreateUser adds an account. Its password is temporary: single use,
// valid 24 hours, replaced at the first sign-in (S19).
func (a *App) CreateUser(req NewUserRequest) (UserInfo, error) {
	c, err := a.begin("CreateUser")
	if err != nil {
		return UserInfo{}, err
	}
	var id string
	err = inTx(c.ctx, c.svc.Vault.W, func(tx *sql.Tx) error {
		u, err := c.svc.Users.CreateUser(c.ctx, tx, c.sess.User.Username, auth.NewUser{Username: req.Username, Name: req.Name,
			Password: req.TemporaryPassword, Roles: req.Roles, Temporary: true})
		id = u.ID
		return err
	})
	if err != nil {
		return UserInfo{}, problem(a.cfg.Log, "CreateUser", renameField(err, "password", "temporaryPassword"))
	}
	acc, err := c.svc.Users.Account(c.ctx, id)
	if err != nil {
		return UserInfo{}, problem(a.cfg.Log, "CreateUser", err)
	}
	return userInfo(acc), nil
}

// RolesRequest sets an account's roles.
type RolesRequest struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles"`
}

// SetUserRoles replaces an account's roles; its sessions end (S18).
func (a *App) SetUserRoles(req RolesRequest) (UserInfo, error) {
	return a.accountChange("SetUserRoles", func(c call) (auth.Account, error) {
		return c.svc.Users.SetRoles(c.ctx, c.sess.User, req.ID, req.Roles)
	})
}

// DisableUser disables an account; its sessions end.
func (a *App) DisableUser(id string) (UserInfo, error) {
	return a.accountChange("DisableUser", func(c call) (auth.Account, error) { return c.svc.Users.Disable(c.ctx, c.sess.User, id) })
}

// EnableUser re-enables an account, also one disabled for inactivity.
func (a *App) EnableUser(id string) (UserInfo, error) {
	return a.accountChange("EnableUser", func(c call) (auth.Account, error) { return c.svc.Users.Enable(c.ctx, c.sess.User, id) })
}

// UnlockUser lifts a sign-in lockout.
func (a *App) UnlockUser(id string) (UserInfo, error) {
	return a.accountChange("UnlockUser", func(c call) (auth.Account, error) { return c.svc.Users.UnlockAccount(c.ctx, c.sess.User, id) })
}

// ResetMFA removes an account's second factor; it enrols again.
func (a *App) ResetMFA(id string) (UserInfo, error) {
	return a.accountChange("ResetMFA", func(c call) (auth.Account, error) { return c.svc.Users.ResetMFA(c.ctx, c.sess.User, id) })
}

// PasswordReset gives an account a new temporary password.
type PasswordReset struct {
	ID                string `json:"id"`
	TemporaryPassword string `json:"temporaryPassword"`
}

// ResetPassword sets a temporary password; the account's sessions end.
func (a *App) ResetPassword(req PasswordReset) (UserInfo, error) {
	return a.accountChange("ResetPassword", func(c call) (auth.Account, error) {
		return c.svc.Users.ResetPassword(c.ctx, c.sess.User, req.ID, req.TemporaryPassword)
	})
}

func (a *App) accountChange(method string, fn func(call) (auth.Account, error)) (UserInfo, error) {
	c, err := a.begin(method)
	if err != nil {
		return UserInfo{}, err
	}
	acc, err := fn(c)
	if err != nil {
		return UserInfo{}, problem(a.cfg.Log, method, err)
	}
	return userInfo(acc), nil
}

// DeletionRequest is a pending request to delete an account.
type DeletionRequest struct {
	ID          string `json:"id"`
	UserID      string `json:"userId"`
	Username    string `json:"username"`
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
}

// DeletionAsk asks for an account's deletion.
type DeletionAsk struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// RequestUserDeletion asks for an account to be deleted; a second
// administrator must approve (S1).
func (a *App) RequestUserDeletion(req DeletionAsk) (DeletionRequest, error) {
	c, err := a.begin("RequestUserDeletion")
	if err != nil {
		return DeletionRequest{}, err
	}
	ap, err := c.svc.Users.RequestDeletion(c.ctx, c.sess.User, req.ID, req.Reason)
	if err != nil {
		return DeletionRequest{}, problem(a.cfg.Log, "RequestUserDeletion", err)
	}
	return DeletionRequest{ID: ap.ID, UserID: ap.TargetID, Username: ap.Target, RequestedBy: ap.RequestedBy, Reason: ap.Reason, At: rfc3339(ap.At)}, nil
}

// ListDeletionRequests lists requests waiting for a second administrator.
func (a *App) ListDeletionRequests() ([]DeletionRequest, error) {
	c, err := a.begin("ListDeletionRequests")
	if err != nil {
		return nil, err
	}
	aps, err := c.svc.Users.PendingApprovals(c.ctx)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListDeletionRequests", err)
	}
	out := make([]DeletionRequest, 0, len(aps))
	for _, ap := range aps {
		out = append(out, DeletionRequest{ID: ap.ID, UserID: ap.TargetID, Username: ap.Target, RequestedBy: ap.RequestedBy, Reason: ap.Reason, At: rfc3339(ap.At)})
	}
	return out, nil
}

// ApproveUserDeletion approves another administrator's request.
func (a *App) ApproveUserDeletion(requestID string) error {
	c, err := a.begin("ApproveUserDeletion")
	if err != nil {
		return err
	}
	if err := c.svc.Users.Approve(c.ctx, c.sess.User, requestID); err != nil {
		return problem(a.cfg.Log, "ApproveUserDeletion", err)
	}
	return nil
}

// GetSettings returns the notice and session times.
func (a *App) GetSettings() (auth.Settings, error) {
	c, err := a.begin("GetSettings")
	if err != nil {
		return auth.Settings{}, err
	}
	s, err := c.svc.Users.Settings(c.ctx)
	if err != nil {
		return auth.Settings{}, problem(a.cfg.Log, "GetSettings", err)
	}
	return s, nil
}

// SaveSettings stores the notice and session times within their bounds.
func (a *App) SaveSettings(s auth.Settings) (auth.Settings, error) {
	c, err := a.begin("SaveSettings")
	if err != nil {
		return auth.Settings{}, err
	}
	out, err := c.svc.Users.SaveSettings(c.ctx, c.sess.User, s)
	if err != nil {
		return auth.Settings{}, problem(a.cfg.Log, "SaveSettings", err)
	}
	return out, nil
}

// Alert is a security alert for the officer and administrators.
type Alert struct {
	ID           string `json:"id"`
	At           string `json:"at"`
	Kind         string `json:"kind"`
	Message      string `json:"message"`
	Username     string `json:"username"`
	Acknowledged bool   `json:"acknowledged"`
}

// ListAlerts returns security alerts, newest first.
func (a *App) ListAlerts() ([]Alert, error) {
	c, err := a.begin("ListAlerts")
	if err != nil {
		return nil, err
	}
	als, err := c.svc.Users.Alerts(c.ctx)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListAlerts", err)
	}
	out := make([]Alert, 0, len(als))
	for _, al := range als {
		out = append(out, Alert{ID: al.ID, At: rfc3339(al.At), Kind: al.Kind, Message: al.Message, Username: al.Username, Acknowledged: al.AcknowledgedBy != ""})
	}
	return out, nil
}

// AcknowledgeAlert marks an alert seen; audited.
func (a *App) AcknowledgeAlert(id string) error {
	c, err := a.begin("AcknowledgeAlert")
	if err != nil {
		return err
	}
	if err := c.svc.Users.AcknowledgeAlert(c.ctx, c.sess.User, id); err != nil {
		return problem(a.cfg.Log, "AcknowledgeAlert", err)
	}
	return nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
