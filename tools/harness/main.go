// Command harness serves the built UI over HTTP on loopback with the same
// window.go.app.App bindings that Wails gives the real window, so that a
// real browser can drive the real backend in end-to-end tests. It is a
// test tool: the shipped binary never contains it, and it binds only to
// a loopback address.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"outpost/app"
	"outpost/frontend"
)

func main() {
	dataDir := flag.String("data-dir", "", "vault folder (required)")
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	saveDir := flag.String("save-dir", "", "where files the user saves are written (stands in for the save dialog; default: a new temporary folder)")
	// Updates (frontend/e2e/updates.test.mjs): a test repository's root, a
	// stand-in program to replace (never the harness itself) and a release
	// version; the environment gives them when the flags are not used.
	version := flag.String("version", envOr("OUTPOST_HARNESS_VERSION", "harness"), "the version the app reports and updates from")
	updateRoot := flag.String("update-root", os.Getenv("OUTPOST_HARNESS_UPDATE_ROOT"), "trusted update root metadata (default: the embedded one)")
	updateTarget := flag.String("update-target", os.Getenv("OUTPOST_HARNESS_UPDATE_TARGET"), "the program an update replaces (default: a stand-in file in the data folder)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *dataDir == "" || !frontend.Built() {
		log.Error("need --data-dir and a built frontend")
		os.Exit(2)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Error("the harness listens on loopback only")
		os.Exit(2)
	}
	if *saveDir == "" {
		d, err := os.MkdirTemp("", "outpost-saves-")
		if err != nil {
			log.Error("save folder", "cause", err.Error())
			os.Exit(1)
		}
		*saveDir = d
	}
	uc, err := updateConfig(*dataDir, *updateRoot, *updateTarget)
	if err != nil {
		log.Error("update settings", "cause", err.Error())
		os.Exit(2)
	}
	clock := &offsetClock{}
	a := app.New(app.Config{DataDir: *dataDir, Version: *version, Workstation: "e2e-harness", Log: log, Now: clock.Now,
		Save: app.FolderSaver(*saveDir), Updates: uc})
	app.Start(context.Background(), a)
	defer app.Stop(a)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "cause", err.Error())
		os.Exit(1)
	}
	mux := handler(a, frontend.Assets())
	mux.HandleFunc("POST /test/clock", clock.serve)
	srv := &http.Server{Handler: app.SecurityHeaders(mux), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("listening http://%s\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "cause", err.Error())
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// updateConfig reads the trusted root and picks the program an update
// replaces: never the harness binary (by default a stand-in file in the
// data folder, removed with it).
func updateConfig(dataDir, root, target string) (app.UpdateConfig, error) {
	var uc app.UpdateConfig
	if root != "" {
		b, err := os.ReadFile(root)
		if err != nil {
			return uc, fmt.Errorf("update root: %w", err)
		}
		uc.Root = b
	}
	if target == "" {
		target = filepath.Join(dataDir, "harness-program")
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return uc, fmt.Errorf("stand-in program: %w", err)
		}
		if err := os.WriteFile(target, []byte("stand-in for the outpost program\n"), 0o700); err != nil {
			return uc, fmt.Errorf("stand-in program: %w", err)
		}
	}
	uc.Target = target
	return uc, nil
}

// offsetClock is the backend's clock in the harness: real time plus an
// offset that tests move forward through POST /test/clock, so that time
// rules (idle lock, lockout delays) are tested without sleeping.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AdvanceSeconds int64 `json:"advanceSeconds"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&req); err != nil || req.AdvanceSeconds < 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.offset += time.Duration(req.AdvanceSeconds) * time.Second
	off := c.offset
	c.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]int64{"offsetSeconds": int64(off / time.Second)})
}

func handler(a *app.App, assets fs.FS) *http.ServeMux {
	mux := http.NewServeMux()
	methods := boundMethods(a)
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	list, _ := json.Marshal(names)
	mux.HandleFunc("GET /wails/runtime.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprintf(w, runtimeJS, list)
	})
	mux.HandleFunc("GET /wails/ipc.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "/* harness: calls go over fetch('/call') */\n")
	})
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name string            `json:"name"`
			Args []json.RawMessage `json:"args"`
		}
		// As large as the biggest call the window makes: a 200 MB FHIR
		// import in base64 (the backend enforces its own limits).
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 300<<20)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		m, ok := methods[req.Name]
		if !ok {
			http.Error(w, "no such method", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(invoke(m, req.Args))
	})
	files := http.FileServerFS(assets)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/index.html" {
			files.ServeHTTP(w, r)
			return
		}
		page, err := fs.ReadFile(assets, "index.html")
		if err != nil {
			http.Error(w, "not built", http.StatusInternalServerError)
			return
		}
		// As Wails does: the runtime and IPC scripts go first in <head>.
		page = bytes.Replace(page, []byte("<head>"), []byte(`<head><script src="/wails/ipc.js"></script><script src="/wails/runtime.js"></script>`), 1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	return mux
}

// boundMethods returns the exported methods of the bound struct, as Wails
// binds them.
func boundMethods(a *app.App) map[string]reflect.Value {
	v := reflect.ValueOf(a)
	out := map[string]reflect.Value{}
	for i := 0; i < v.NumMethod(); i++ {
		out[v.Type().Method(i).Name] = v.Method(i)
	}
	return out
}

var errorType = reflect.TypeFor[error]()

type reply struct {
	Result any `json:"result"`
	Error  any `json:"error,omitempty"`
}

// invoke decodes each argument into the parameter's type, calls m and
// shapes the reply like the Wails dispatcher (errors through FormatError).
func invoke(m reflect.Value, raw []json.RawMessage) reply {
	t := m.Type()
	if len(raw) != t.NumIn() {
		return reply{Error: app.FormatError(fmt.Errorf("argument count"))}
	}
	args := make([]reflect.Value, t.NumIn())
	for i := range args {
		p := reflect.New(t.In(i))
		if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
			return reply{Error: app.FormatError(fmt.Errorf("argument %d: %w", i, err))}
		}
		args[i] = p.Elem()
	}
	out := m.Call(args)
	var res reply
	for _, o := range out {
		if o.Type() == errorType {
			if !o.IsNil() {
				res.Error = app.FormatError(o.Interface().(error))
				res.Result = nil
				return res
			}
			continue
		}
		res.Result = o.Interface()
	}
	return res
}

const runtimeJS = `(() => {
  const methods = %s;
  async function call(name, args) {
    const res = await fetch('/call', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({name, args})});
    if (!res.ok) throw {code: 'E_INTERNAL', message: 'The harness refused the call.'};
    const msg = await res.json();
    if (msg.error !== undefined && msg.error !== null) throw msg.error;
    return msg.result;
  }
  const App = {};
  for (const m of methods) App[m] = (...args) => call(m, args);
  window.go = {app: {App}};
  const noop = () => {};
  window.runtime = {LogPrint: noop, LogTrace: noop, LogDebug: noop, LogInfo: noop, LogWarning: noop, LogError: noop, LogFatal: noop,
    EventsOn: () => noop, EventsOnce: () => noop, EventsOnMultiple: () => noop, EventsOff: noop, EventsEmit: noop, Quit: noop,
    WindowSetTitle: noop, BrowserOpenURL: noop};
})();
`
