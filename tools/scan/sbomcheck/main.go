// Command sbomcheck joins and checks the CycloneDX SBOMs `make sbom` writes.
//
//	sbomcheck merge OUT GO.cdx.json NPM.cdx.json [VERSION]
//	    the Go SBOM (cyclonedx-gomod) with the npm packages of the
//	    frontend (npm sbom) added as components, their dependency graph
//	    kept; VERSION, when given, becomes the application's version
//	sbomcheck meta FILE NAME VERSION
//	    sets the described program's name and version (cyclonedx-gomod
//	    names it after the module and gives it a pseudo-version)
//	sbomcheck check FILE NAME...
//	    fails unless every NAME (a Go module path or npm package name)
//	    is a component of FILE with a version
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

type bom = map[string]any

func main() {
	var err error
	switch {
	case len(os.Args) >= 5 && len(os.Args) <= 6 && os.Args[1] == "merge":
		version := ""
		if len(os.Args) == 6 {
			version = os.Args[5]
		}
		err = merge(os.Args[2], os.Args[3], os.Args[4], version)
	case len(os.Args) == 5 && os.Args[1] == "meta":
		err = meta(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) >= 4 && os.Args[1] == "check":
		err = check(os.Args[2], os.Args[3:])
	default:
		fmt.Fprintln(os.Stderr, "usage: sbomcheck merge OUT GO.json NPM.json [VERSION] | sbomcheck meta FILE NAME VERSION | sbomcheck check FILE NAME...")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbomcheck:", err)
		os.Exit(1)
	}
}

func read(name string) (bom, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var b bom
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if b["bomFormat"] != "CycloneDX" {
		return nil, fmt.Errorf("%s: not a CycloneDX SBOM", name)
	}
	return b, nil
}

func list(b bom, key string) []any {
	l, _ := b[key].([]any)
	return l
}

func merge(out, goFile, npmFile, version string) error {
	g, err := read(goFile)
	if err != nil {
		return err
	}
	n, err := read(npmFile)
	if err != nil {
		return err
	}
	// npm's refs are name@version, Go's are purls: they cannot collide, but
	// prefix npm's all the same so a reader sees where each came from.
	ref := func(s any) any {
		if str, ok := s.(string); ok {
			return "npm:" + str
		}
		return s
	}
	comps := list(g, "components")
	for _, c := range list(n, "components") {
		if m, ok := c.(map[string]any); ok {
			m["bom-ref"] = ref(m["bom-ref"])
			comps = append(comps, m)
		}
	}
	g["components"] = comps
	deps := list(g, "dependencies")
	for _, d := range list(n, "dependencies") {
		m, ok := d.(map[string]any)
		if !ok {
			continue
		}
		m["ref"] = ref(m["ref"])
		if on, ok := m["dependsOn"].([]any); ok {
			for i := range on {
				on[i] = ref(on[i])
			}
		}
		deps = append(deps, m)
	}
	// The frontend is part of the application: the app depends on its root.
	if meta, ok := n["metadata"].(map[string]any); ok {
		if fc, ok := meta["component"].(map[string]any); ok {
			fc["bom-ref"] = ref(fc["bom-ref"])
			fc["type"] = "library"
			comps = append(comps, fc)
			g["components"] = comps
			if gm, ok := g["metadata"].(map[string]any); ok {
				if app, ok := gm["component"].(map[string]any); ok {
					if version != "" {
						app["version"] = version
					}
					for _, d := range deps {
						if m, ok := d.(map[string]any); ok && m["ref"] == app["bom-ref"] {
							on, _ := m["dependsOn"].([]any)
							m["dependsOn"] = append(on, fc["bom-ref"])
						}
					}
				}
			}
		}
	}
	g["dependencies"] = deps
	raw, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(raw, '\n'), 0o600)
}

func meta(file, name, version string) error {
	b, err := read(file)
	if err != nil {
		return err
	}
	gm, _ := b["metadata"].(map[string]any)
	app, _ := gm["component"].(map[string]any)
	if app == nil {
		return fmt.Errorf("%s: no metadata.component", file)
	}
	app["name"], app["version"] = name, version
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(raw, '\n'), 0o600)
}

func check(file string, names []string) error {
	b, err := read(file)
	if err != nil {
		return err
	}
	found := map[string]string{}
	var walk func([]any)
	walk = func(cs []any) {
		for _, c := range cs {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			if g, _ := m["group"].(string); g != "" {
				name = g + "/" + name
			}
			if v, _ := m["version"].(string); v != "" {
				found[name] = v
			}
			walk(list(m, "components"))
		}
	}
	walk(list(b, "components"))
	var missing []string
	for _, n := range names {
		if v, ok := found[n]; ok {
			fmt.Printf("%s: %s %s\n", file, n, v)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: no versioned component for %v (%d components)", file, missing, len(found))
	}
	return nil
}
