package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Limits of the table printed to stderr.
const (
	maxTableRows = 50 // bucket rows; the JSON on stdout has every one
	maxDetail    = 60 // runes of a bucket's reason or error
	// maxAccountDetail is the runes of an account's error: the code and
	// the remedy come late in it.
	maxAccountDetail = 600
)

// tableResult is the part of the function's result the table shows.
type tableResult struct {
	Results []struct {
		Account, Bucket, Region, Outcome, Reason, Error string
	} `json:"results"`
	Summary  map[string]int `json:"summary"`
	Accounts []struct {
		Uin, Outcome, Error string
	} `json:"accounts"`
}

// summaryKeys are the summary's counts, in the order printed.
var summaryKeys = []string{"enabled", "already_enabled", "would_enable", "skipped", "failed", "deferred", "filtered"}

// printTable writes a table of every bucket of the first invocation's
// result (nil when it failed) and of each delivered invocation's, then the
// accounts and deliveries that failed, then the summary summed over the
// invocations.
func printTable(w io.Writer, first json.RawMessage, deliveries []delivery) {
	var results []tableResult
	for _, raw := range append([]json.RawMessage{first}, resultsOf(deliveries)...) {
		var r tableResult
		if len(raw) > 0 && json.Unmarshal(raw, &r) == nil {
			results = append(results, r)
		}
	}
	withAccount := false
	rows := 0
	for _, r := range results {
		for _, b := range r.Results {
			withAccount = withAccount || b.Account != ""
			rows++
		}
	}

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	head := "BUCKET\tREGION\tOUTCOME\tREASON OR ERROR"
	if withAccount {
		head = "ACCOUNT\t" + head
	}
	fmt.Fprintln(tw, head)
	shown := 0
	for _, r := range results {
		for _, b := range r.Results {
			if shown == maxTableRows {
				break
			}
			shown++
			line := b.Bucket + "\t" + b.Region + "\t" + b.Outcome + "\t" + clip(firstOf(b.Error, b.Reason), maxDetail)
			if withAccount {
				line = b.Account + "\t" + line
			}
			fmt.Fprintln(tw, line)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, l := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(l, " "))
	}
	if rows == 0 {
		fmt.Fprintln(w, "(no bucket)")
	} else if rows > shown {
		fmt.Fprintf(w, "… and %d more buckets: the JSON on stdout has every one\n", rows-shown)
	}

	for _, r := range results {
		for _, a := range r.Accounts {
			if a.Outcome == "failed" || a.Outcome == "deferred" {
				fmt.Fprintf(w, "account %s: %s: %s\n", a.Uin, a.Outcome, clip(a.Error, maxAccountDetail))
			}
		}
	}
	for _, d := range deliveries {
		if d.Error != "" {
			fmt.Fprintf(w, "account %s: its invocation %s failed: %s\n", firstOf(d.Account, "?"), d.RequestID, clip(d.Error, maxAccountDetail))
		}
	}

	total := map[string]int{}
	for _, r := range results {
		for k, n := range r.Summary {
			total[k] += n
		}
	}
	var parts []string
	for _, k := range summaryKeys {
		if n := total[k]; n > 0 || k != "filtered" {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	line := "summary: " + strings.Join(parts, ", ")
	if len(deliveries) > 0 {
		failed := 0
		for _, d := range deliveries {
			if d.Error != "" {
				failed++
			}
		}
		line += fmt.Sprintf(" (over the first invocation and %d delivered, %d of them failed)", len(deliveries), failed)
	}
	fmt.Fprintln(w, line)
}

// resultsOf lists the deliveries' results; a failed one's is nil.
func resultsOf(deliveries []delivery) []json.RawMessage {
	var out []json.RawMessage
	for _, d := range deliveries {
		out = append(out, d.Result)
	}
	return out
}

// clip shortens s to n runes, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
