package app

import (
	"context"
	"io/fs"
	"net/http"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// CSP is the Content-Security-Policy of every page: scripts, styles and
// connections only from the app itself, nothing inline, no plugins, no
// framing, no form posts.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// SecurityHeaders adds the CSP and related headers to every response.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// Options returns the Wails options for the desktop window: assets from
// the embedded frontend, App bound, errors as Problems. The window serves
// nothing on the network: Wails loads the assets in-process.
func Options(a *App, assets fs.FS) *options.App {
	return &options.App{
		Title:     "Outpost",
		Width:     1280,
		Height:    800,
		MinWidth:  900,
		MinHeight: 600,
		AssetServer: &assetserver.Options{
			Assets:     assets,
			Middleware: SecurityHeaders,
		},
		BackgroundColour:         &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		OnStartup:                func(ctx context.Context) { a.start(ctx) },
		OnShutdown:               func(ctx context.Context) { a.stop() },
		Bind:                     []any{a},
		ErrorFormatter:           FormatError,
		EnableDefaultContextMenu: false,
		Linux: &linux.Options{
			ProgramName:      "outpost",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	}
}
