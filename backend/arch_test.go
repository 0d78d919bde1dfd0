// Package backend holds architecture tests over the whole module: which
// package may import what, and that SQL is never built from strings.
package backend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	sqlcipher = "github.com/mutecomm/go-sqlcipher/v4"
	sqlite3   = "github.com/mattn/go-sqlite3"
	wails     = "github.com/wailsapp/wails/v2"
)

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listDeps runs go list over the module, with test dependencies.
func listDeps(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-test", "-json=ImportPath,Imports,Deps", "outpost/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func hasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return s == prefix || strings.HasPrefix(s, prefix+"/") })
}

// Both drivers carry SQLite and register "sqlite3": no package and no test
// binary may link both. Only the vault imports SQLCipher; only app and
// main import Wails; outpost-admin and the backend never link Wails.
func TestImportGraph(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range listDeps(t) {
		if p.ImportPath == "outpost/backend/vault" && hasPrefix(p.Imports, sqlcipher) {
			seen["vault imports sqlcipher"] = true
		}
		if p.ImportPath == "outpost" && hasPrefix(p.Deps, wails) {
			seen["main links wails"] = true
		}
		if hasPrefix(p.Deps, sqlcipher) && hasPrefix(p.Deps, sqlite3) {
			t.Errorf("%s links both SQLite drivers", p.ImportPath)
		}
		base := strings.Fields(p.ImportPath)[0] // "x [x.test]" for test variants
		if hasPrefix(p.Imports, sqlcipher) && base != "outpost/backend/vault" {
			t.Errorf("%s imports SQLCipher directly; only backend/vault may", p.ImportPath)
		}
		if hasPrefix(p.Imports, wails) && base != "outpost/app" && base != "outpost" {
			t.Errorf("%s imports Wails; only app and main may", p.ImportPath)
		}
		if strings.HasPrefix(base, "outpost/backend/") && hasPrefix(p.Deps, wails) {
			t.Errorf("%s links Wails; the backend must not", p.ImportPath)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("the graph looks wrong, the check cannot be trusted: %v", seen)
	}
}

// The sync server holds ciphertext only (zero knowledge): its binary
// links nothing that holds keys or opens records, and no SQLCipher;
// only its store imports mattn/go-sqlite3; the shared protocol depends on
// the standard library and x/crypto alone; the server's HTTP side links
// no SQL driver, so another store can replace SQLite.
func TestSyncServerLinksNoPatientData(t *testing.T) {
	const server = "outpost/backend/cmd/outpost-server"
	forbidden := []string{
		"outpost/backend/vault", "outpost/backend/records", "outpost/backend/auth", "outpost/backend/seal",
		"outpost/backend/clinic", "outpost/backend/sync", "outpost/backend/fhir", "outpost/backend/report",
		"outpost/app", wails, sqlcipher,
	}
	found := map[string]bool{}
	for _, p := range listDeps(t) {
		base := strings.Fields(p.ImportPath)[0]
		if hasPrefix(p.Imports, sqlite3) && !strings.HasPrefix(base, "outpost/backend/syncserver") {
			t.Errorf("%s imports mattn/go-sqlite3; only the sync server's store may", p.ImportPath)
		}
		switch p.ImportPath { // the packages as built, not their test variants
		case server:
			found[server] = true
			for _, f := range forbidden {
				if hasPrefix(p.Deps, f) {
					t.Errorf("outpost-server links %s", f)
				}
			}
			if !hasPrefix(p.Deps, sqlite3) || !slices.Contains(p.Deps, "outpost/backend/syncserver") {
				t.Errorf("outpost-server does not link its store: the check is looking at the wrong package")
			}
		case "outpost/backend/syncproto":
			found[p.ImportPath] = true
			for _, d := range p.Deps {
				first := strings.Split(d, "/")[0]
				if strings.Contains(first, ".") && !hasPrefix([]string{d}, "golang.org/x/crypto") && !hasPrefix([]string{d}, "golang.org/x/sys") {
					t.Errorf("syncproto depends on %s: only the standard library and x/crypto", d)
				}
				if strings.HasPrefix(d, "outpost/") {
					t.Errorf("syncproto depends on %s", d)
				}
			}
		case "outpost/backend/syncserver":
			found[p.ImportPath] = true
			if hasPrefix(p.Deps, sqlite3) || slices.ContainsFunc(p.Deps, func(d string) bool { return strings.HasPrefix(d, "outpost/backend/syncserver/") }) {
				t.Errorf("syncserver links a store; it must work over the Store interface alone")
			}
		}
	}
	if len(found) != 3 {
		t.Fatalf("expected outpost-server, syncproto and syncserver in the graph, found %v", found)
	}
}

var sqlMethods = map[string]int{ // method name -> index of the query argument
	"Exec": 0, "ExecContext": 1, "Query": 0, "QueryContext": 1, "QueryRow": 0, "QueryRowContext": 1,
	"Prepare": 0, "PrepareContext": 1,
}

// S3: every query handed to database/sql is a constant (literals and
// constants joined by +); values always travel as parameters. A line that
// must build a statement (a PRAGMA, which takes no parameters) says so
// with a "sqlcheck:" comment naming why it is safe.
func TestSQLIsNeverBuiltFromStrings(t *testing.T) {
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		checked += checkFile(t, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d SQL calls found: is the check looking in the right place?", checked)
	}
}

func checkFile(t *testing.T, path string) int {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	consts := packageConsts(t, filepath.Dir(path))
	allowed := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, "sqlcheck:") {
				allowed[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		i, ok := sqlMethods[sel.Sel.Name]
		if !ok || len(call.Args) <= i {
			return true
		}
		n++
		line := fset.Position(call.Pos()).Line
		if !constant(call.Args[i], consts) && !allowed[line] && !allowed[line-1] {
			t.Errorf("%s:%d: %s with a query that is not a constant", path, line, sel.Sel.Name)
		}
		return true
	})
	return n
}

// packageConsts returns the string constants declared in a directory.
func packageConsts(t *testing.T, dir string) map[string]bool {
	consts := map[string]bool{}
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", dir, err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					for _, name := range s.(*ast.ValueSpec).Names {
						consts[name.Name] = true
					}
				}
			}
		}
	}
	return consts
}

func constant(e ast.Expr, consts map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.Ident:
		return consts[e.Name]
	case *ast.ParenExpr:
		return constant(e.X, consts)
	case *ast.BinaryExpr:
		return e.Op == token.ADD && constant(e.X, consts) && constant(e.Y, consts)
	}
	return false
}

// No secret-looking literal and no hard-coded key in the source (S7, in
// brief; the supply-chain work adds a full scanner).
func TestNoPrivateKeysInSource(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name := sc.Text()
		if strings.HasPrefix(name, "frontend/package-lock.json") {
			continue
		}
		raw, err := readSmall(filepath.Join("..", name))
		if err != nil {
			continue
		}
		for _, marker := range []string{"BEGIN RSA PRIVATE KEY", "BEGIN PRIVATE KEY", "BEGIN OPENSSH PRIVATE KEY", "BEGIN EC PRIVATE KEY"} {
			if bytes.Contains(raw, []byte(marker)) && !strings.HasSuffix(name, "arch_test.go") {
				t.Errorf("%s holds a private key", name)
			}
		}
	}
}

func readSmall(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 4<<20 {
		return nil, fs.ErrInvalid
	}
	return b, nil
}
