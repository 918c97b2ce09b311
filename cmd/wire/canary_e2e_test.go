package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/scfrpc"
)

// TestCanaryEndToEnd runs README's local canary: the function binary, run
// by the emulator as SCF runs it, receives the bucket's creation in the
// EventBridge form and enables it through CI; the canary sees CI list it,
// and reads the function's lines from the emulated CLS topic.
func TestCanaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function and the emulator")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	dir := t.TempDir()
	fn, emu := filepath.Join(dir, "main"), filepath.Join(dir, "emulator")
	if err := scfrpc.Build(root, fn); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("go", "build", "-o", emu, filepath.Join(root, "cmd", "emulator")).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/emulator: %v\n%s", err, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, emu, "-addr", "127.0.0.1:0", "-function", fn, "-quiet", "-buckets", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var banner bytes.Buffer
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening on http://(\S+)`)
		for sc.Scan() {
			banner.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(time.Minute):
		t.Fatalf("the emulator did not start:\n%s", banner.String())
	}
	time.Sleep(500 * time.Millisecond) // the function starts after the banner's first line

	var out, errb bytes.Buffer
	env := map[string]string{"TENCENTCLOUD_SECRETID": "AKIDLOCALDEMO", "TENCENTCLOUD_SECRETKEY": "local-demo-secret-key",
		"TENCENTCLOUD_SESSIONTOKEN": "local-demo-session-token"}
	code := run([]string{"canary", "--uin", "100000000001", "--endpoint", "http://" + addr, "--poll", "200ms", "--wait", "1m",
		"-f", filepath.Join(root, "testdata", "wire", "serverless-canary.yml")}, func(k string) string { return env[k] }, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "s after PutBucket (CI lists it)") || !strings.Contains(out.String(), "canary: trigger ") ||
		!strings.Contains(out.String(), "outcome enabled") || !strings.Contains(out.String(), "canary: deleted bucket") {
		t.Errorf("canary: exit %d\n%s%s\nemulator:\n%s", code, out.String(), errb.String(), banner.String())
	}
	t.Log(out.String())

	// README shows these commands.
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"./emulator -addr 127.0.0.1:9000 -function ./main -buckets 0 &",
		"export TENCENTCLOUD_SECRETID=AKIDLOCALDEMO TENCENTCLOUD_SECRETKEY=local-demo-secret-key TENCENTCLOUD_SESSIONTOKEN=local-demo-session-token",
		"go run ./cmd/wire canary --uin 100000000001 --endpoint http://127.0.0.1:9000 --poll 200ms -f testdata/wire/serverless-canary.yml"} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md does not show %q", line)
		}
	}
}
