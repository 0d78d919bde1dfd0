package app

import (
	"fmt"
	"path/filepath"
	"reflect"

	"outpost/backend/audit"
	"outpost/backend/posture"
)

// SecurityReport is the live security report (docs/security-report.md):
// every requirement row (S1 … S35, P1 … P7) with its status on this
// installation and the evidence, for administrators and security
// officers. Besides what outpost-admin report sees, the window adds its
// own Content-Security-Policy (S4) and the access rule of every bound
// method (P1). Reading it is audited.
func (a *App) SecurityReport() (posture.Report, error) {
	c, err := a.begin("SecurityReport")
	if err != nil {
		return posture.Report{}, err
	}
	rep, err := posture.Assess(c.ctx, posture.Inputs{Services: c.svc, Now: a.cfg.Now, Version: a.cfg.Version,
		UpdateStateDir: filepath.Join(a.cfg.DataDir, "update"), CSP: CSP, Methods: boundMethods(a)})
	if err != nil {
		return posture.Report{}, problem(a.cfg.Log, "SecurityReport", err)
	}
	if err := c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: "security.report", Outcome: audit.Success, Detail: fmt.Sprintf("ok %d, warn %d, fail %d", rep.Counts[posture.OK], rep.Counts[posture.Warn], rep.Counts[posture.Fail])}); err != nil {
		return posture.Report{}, problem(a.cfg.Log, "SecurityReport", err)
	}
	return rep, nil
}

// boundMethods lists every method Wails binds with its access rule ("" for
// one without a rule, which begin refuses and the report fails).
func boundMethods(a *App) map[string]string {
	t := reflect.TypeOf(a)
	out := make(map[string]string, t.NumMethod())
	for i := 0; i < t.NumMethod(); i++ {
		name := t.Method(i).Name
		out[name] = methodPerms[name]
	}
	return out
}
