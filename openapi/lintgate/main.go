// Command lintgate turns the output of two npm tools run by `make lint` into pass or fail, each
// against a commented list of known findings that shrinks as the contract is fixed:
//
//	lintgate spectral -spec secumon.yaml -allow spectral-allowlist.txt spectral.json
//
// reads Spectral's `-f json` output. Errors on the request side of the contract (operation and
// path parameters, request bodies, components/parameters and components/requestBodies, and the
// component schemas they reach through $ref, plus schemas no operation references at all, such
// as the check configs the server looks up by name) fail unless the allowlist names them by
// rule and path. Everything else (responses, headers, servers) is printed as a warning.
//
//	lintgate tsc -known ts-client-test/KNOWN_GAPS tsc.out
//
// reads `tsc --pretty false` output. Each error must be listed in KNOWN_GAPS as
// "file:line TScode"; any other error fails.
//
// Both print listed entries that no longer occur, so that they are deleted, and how many
// listed findings remain. -write rewrites the list from the current findings (a new list
// keeps no comments but its header: use it once, not to silence a new finding).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lintgate spectral|tsc [flags] FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "spectral":
		err = spectralGate(os.Args[2:])
	case "tsc":
		err = tscGate(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lintgate:", err)
		os.Exit(1)
	}
}

// readList reads a list file: one entry per line, "#" starts a comment, blank lines ignored.
func readList(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			list[line] = true
		}
	}
	return list, sc.Err()
}

// judge compares the current findings (key → description) with the list and reports.
func judge(what string, found map[string]string, listPath string, write bool, header string) error {
	if write {
		keys := slices.Sorted(mapKeys(found))
		return os.WriteFile(listPath, []byte(header+strings.Join(keys, "\n")+"\n"), 0o644)
	}
	list, err := readList(listPath)
	if err != nil {
		return err
	}
	var fresh []string
	known := 0
	for _, k := range slices.Sorted(mapKeys(found)) {
		if list[k] {
			known++
		} else {
			fresh = append(fresh, k+"  "+found[k])
		}
	}
	for _, k := range slices.Sorted(mapKeys(list)) {
		if _, ok := found[k]; !ok {
			fmt.Printf("fixed, delete it from %s: %s\n", listPath, k)
		}
	}
	fmt.Printf("%s: %d known %s remain (listed in %s)\n", what, known, plural(known, "gap", "gaps"), listPath)
	if len(fresh) > 0 {
		for _, f := range fresh {
			fmt.Println("NEW:", f)
		}
		return fmt.Errorf("%s: %d new %s not in %s (fix them; a list only shrinks)", what, len(fresh), plural(len(fresh), "error", "errors"), listPath)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ---- Spectral -------------------------------------------------------------------------------

type spectralResult struct {
	Code     string   `json:"code"`
	Path     []string `json:"path"`
	Message  string   `json:"message"`
	Severity int      `json:"severity"` // 0 error, 1 warning, 2 info, 3 hint
	Range    struct {
		Start struct {
			Line int `json:"line"`
		} `json:"start"`
	} `json:"range"`
}

const spectralHeader = `# Request-side Spectral errors (spectral:oas + OWASP) in openapi/secumon.yaml that ` + "`make lint`" + `
# still tolerates, as "rule path" (the path is Spectral's, dot-separated). This list only shrinks:
# fix an entry in the contract (bounds, formats, additionalProperties…) and delete its line.
# A request-side error not listed here fails the build; response-side findings are warnings.
`

func spectralGate(args []string) error {
	fs := flag.NewFlagSet("spectral", flag.ExitOnError)
	specPath := fs.String("spec", "secumon.yaml", "the OpenAPI document Spectral linted")
	allow := fs.String("allow", "spectral-allowlist.txt", "the allowlist")
	write := fs.Bool("write", false, "rewrite the allowlist from the current findings")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("spectral: want one Spectral JSON file")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var results []spectralResult
	if err := json.Unmarshal(data, &results); err != nil {
		return fmt.Errorf("spectral output is not JSON (did Spectral run?): %w", err)
	}
	spec, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	requestSchemas, err := requestSideSchemas(spec)
	if err != nil {
		return err
	}
	found := map[string]string{}
	warnings := map[string]int{}
	for _, r := range results {
		if r.Severity != 0 || !isRequestSide(r.Path, requestSchemas) {
			warnings[r.Code]++
			continue
		}
		found[r.Code+" "+strings.Join(r.Path, ".")] = fmt.Sprintf("(line %d: %s)", r.Range.Start.Line+1, r.Message)
	}
	if len(warnings) > 0 {
		fmt.Println("Spectral response-side findings and warnings (not failing):")
		for _, code := range slices.Sorted(mapKeys(warnings)) {
			fmt.Printf("  %4d %s\n", warnings[code], code)
		}
	}
	return judge("Spectral request-side errors", found, *allow, *write, spectralHeader)
}

// isRequestSide says whether a finding's path lies in what clients send.
func isRequestSide(path []string, requestSchemas map[string]bool) bool {
	switch {
	case len(path) >= 3 && path[0] == "paths":
		// paths.<p>.parameters… or paths.<p>.<method>.parameters|requestBody…
		return path[2] == "parameters" || len(path) >= 4 && (path[3] == "parameters" || path[3] == "requestBody")
	case len(path) >= 3 && path[0] == "components":
		switch path[1] {
		case "parameters", "requestBodies":
			return true
		case "schemas":
			return requestSchemas[path[2]]
		}
	}
	return false
}

// requestSideSchemas returns the component schemas reachable from request parameters and
// bodies, and those that no operation reaches at all (the check configs, looked up by name).
func requestSideSchemas(spec []byte) (map[string]bool, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	section := func(name string) map[string]any { m, _ := comps[name].(map[string]any); return m }

	var requestRoots, allRoots []any
	if paths, ok := doc["paths"].(map[string]any); ok {
		for _, item := range paths {
			item, _ := item.(map[string]any)
			for k, v := range item {
				allRoots = append(allRoots, v)
				if k == "parameters" {
					requestRoots = append(requestRoots, v)
				}
				if op, ok := v.(map[string]any); ok {
					requestRoots = append(requestRoots, op["parameters"], op["requestBody"])
				}
			}
		}
	}
	for _, name := range []string{"parameters", "requestBodies"} {
		for _, v := range section(name) {
			requestRoots = append(requestRoots, v)
		}
	}
	// Everything but the schemas themselves can reach schemas (responses, headers…).
	for name, sec := range comps {
		if name != "schemas" {
			allRoots = append(allRoots, sec)
		}
	}
	reach := func(roots []any) map[string]bool {
		seen := map[string]bool{}
		var walk func(any)
		walk = func(n any) {
			switch n := n.(type) {
			case map[string]any:
				if ref, ok := n["$ref"].(string); ok {
					if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok && !seen[name] {
						seen[name] = true
						walk(schemas[name])
					} else if rest, ok := strings.CutPrefix(ref, "#/components/"); ok {
						sec, name, _ := strings.Cut(rest, "/")
						if sec != "schemas" {
							walk(section(sec)[name])
						}
					}
				}
				for _, v := range n {
					walk(v)
				}
			case map[any]any: // numeric keys, as in responses
				for _, v := range n {
					walk(v)
				}
			case []any:
				for _, v := range n {
					walk(v)
				}
			}
		}
		for _, r := range roots {
			walk(r)
		}
		return seen
	}
	request := reach(requestRoots)
	used := reach(allRoots)
	for name := range schemas {
		if !used[name] {
			request[name] = true
		}
	}
	return request, nil
}

// ---- tsc ------------------------------------------------------------------------------------

// tscError matches `main.ts(12,5): error TS2345: message` (tsc --pretty false).
var tscError = regexp.MustCompile(`^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$`)

const tscHeader = `# tsc errors the TypeScript client test still tolerates, as "file:line TScode".
# Each is a contract gap, not a mistake in main.ts: delete its line when the contract is fixed.
`

func tscGate(args []string) error {
	fs := flag.NewFlagSet("tsc", flag.ExitOnError)
	knownPath := fs.String("known", "KNOWN_GAPS", "the list of known gaps")
	write := fs.Bool("write", false, "rewrite the list from the current errors")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("tsc: want one file of tsc output")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	found := map[string]string{}
	var other []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := tscError.FindStringSubmatch(line); m != nil {
			found[m[1]+":"+m[2]+" "+m[3]] = m[4]
		} else if strings.Contains(line, "error TS") {
			other = append(other, line) // a global error (tsconfig, missing module): never tolerated
		}
	}
	for _, o := range other {
		fmt.Println("NEW:", o)
	}
	if err := judge("TypeScript client", found, *knownPath, *write, tscHeader); err != nil {
		return err
	}
	if len(other) > 0 {
		return fmt.Errorf("tsc: %d errors outside any line", len(other))
	}
	return nil
}
