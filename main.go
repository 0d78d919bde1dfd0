// Command outpost is the desktop electronic health record: a Wails window
// over the Go backend, with every record in an encrypted vault.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/wailsapp/wails/v2"

	"outpost/app"
	"outpost/backend/vault"
	"outpost/frontend"
)

//go:embed build/appicon.png
var icon []byte

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	dataDir := flag.String("data-dir", "", "folder that holds the vault (default: the user's config folder/Outpost)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("outpost", version)
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if *dataDir == "" {
		d, err := vault.DefaultDir()
		if err != nil {
			log.Error("no data folder", "cause", err.Error())
			os.Exit(1)
		}
		*dataDir = d
	}
	if !frontend.Built() {
		log.Error("this binary was built without its user interface: run make build")
		os.Exit(1)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	a := app.New(app.Config{
		DataDir:     *dataDir,
		Version:     version,
		Workstation: host,
		Log:         log,
		OnReady:     func(screen string) { fmt.Printf("ui ready: screen=%s\n", screen) },
	})
	opts := app.Options(a, frontend.Assets())
	opts.Linux.Icon = icon
	if err := wails.Run(opts); err != nil {
		log.Error("window failed", "cause", err.Error())
		os.Exit(1)
	}
}
