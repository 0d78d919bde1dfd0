// Command gosec runs gosec's rules and analyzers (the pinned
// github.com/securego/gosec/v2 library) over Go packages and prints the
// report as gosec's own -fmt json does. It is gosec's command without its
// AI autofix feature, whose SDKs (Anthropic, OpenAI, Google) more than
// double the tools' cold build time and are never used here.
//
//	gosec [PATTERN...]   (default ./...; test files and generated files
//	                      are not scanned; #nosec comments are ignored, as
//	                      every exception lives in .ci/allow/gosec.txt)
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"

	gosec "github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/rules"
)

func main() {
	patterns := os.Args[1:]
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	config := gosec.NewConfig()
	config.SetGlobal(gosec.Nosec, "true")
	logger := log.New(io.Discard, "", 0)
	ruleList := rules.Generate(false)
	analyzerList := analyzers.Generate(false)
	a := gosec.NewAnalyzer(config, false, true, false, runtime.NumCPU(), logger)
	a.LoadRules(ruleList.RulesInfo())
	a.LoadAnalyzers(analyzerList.AnalyzersInfo())
	var pkgs []string
	for _, p := range patterns {
		ps, err := gosec.PackagePaths(p, gosec.ExcludedDirsRegExp(nil))
		if err != nil {
			fail(err)
		}
		pkgs = append(pkgs, ps...)
	}
	if len(pkgs) == 0 {
		fail(fmt.Errorf("no packages in %v", patterns))
	}
	if err := a.Process(nil, pkgs...); err != nil {
		fail(err)
	}
	issues, metrics, errs := a.Report()
	out, err := json.MarshalIndent(gosec.NewReportInfo(issues, metrics, errs), "", "\t")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gosec:", err)
	os.Exit(2)
}
