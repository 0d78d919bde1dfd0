package syncserver_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// ingestTarget is the goal: server ingest of sealed versions.
const ingestTarget = 10_000

// BenchmarkIngest measures how many sealed versions the server stores
// per second: four enrolled laptops push batches of 500 versions of 1 KiB
// of XChaCha20-Poly1305 ciphertext at once, over loopback TLS with real
// signatures, into the SQLite store (WAL, fsync at every commit). The
// rate limits are lifted: they bound what one laptop or one address may
// send (at the defaults, 20 pushes a second of up to 1,000 versions),
// and would otherwise be what is measured. Everything else is the
// default configuration. One iteration is one batch:
//
//	go test -run '^$' -bench Ingest -benchtime 200x ./backend/syncserver/
//
// The batches are sealed and compressed before the clock starts (that
// is the laptops' work); signing each request is timed. With
// OUTPOST_BENCH_STRICT=1 fewer than ingestTarget versions/s fails the
// benchmark (judged on 50 batches or more).
func BenchmarkIngest(b *testing.B) {
	const devices, batch, size = 4, 500, 1024
	h := newHarness(b, func(c *syncserver.Config) {
		c.Now = time.Now
		c.PerDevice = syncserver.Rate{PerSecond: 1e6, Burst: 1e6}
		c.PerIP = c.PerDevice
	})
	sealer := newSealer(b)
	devs := make([]*device, devices)
	for i := range devs {
		devs[i] = h.newDevice()
		devs[i].signer.Now = time.Now
		h.enroll(devs[i], "bench")
	}
	plain := make([]byte, size-40) // 24-byte nonce and 16-byte tag: 1 KiB sealed
	bodies := make([][]byte, b.N)
	for i := range bodies {
		vs := make([]syncproto.Version, batch)
		for j := range vs {
			rec, ver := fmt.Sprintf("rec-%d-%d", i, j/4), fmt.Sprintf("ver-%d-%d", i, j)
			copy(plain, fmt.Sprintf("synthetic record %d of batch %d", j, i))
			vs[j] = syncproto.Version{Record: rec, ID: ver, Sealed: sealer.sealBytes(b, rec, ver, plain)}
		}
		var err error
		if bodies[i], err = syncproto.EncodeBody(syncproto.PushRequest{Versions: vs}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				pushRaw(b, h, d, bodies[i], batch)
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N*batch) / elapsed.Seconds()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(rate, "versions/s")
	b.ReportMetric(p(0.5), "p50-ms/batch")
	b.ReportMetric(p(0.99), "p99-ms/batch")
	b.ReportMetric(0, "ns/op")
	if c, err := h.store.Clinic(ctx, "bench"); err != nil || c.Head != int64(b.N*batch) {
		b.Fatalf("stored %d of %d: %v", c.Head, b.N*batch, err)
	}
	if os.Getenv("OUTPOST_BENCH_STRICT") == "1" && b.N >= 50 && rate < ingestTarget {
		b.Fatalf("ingest %.0f versions/s, target %d", rate, ingestTarget)
	}
}

func pushRaw(b *testing.B, h *harness, d *device, body []byte, n int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url+syncproto.PathPush, bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	req.Header.Set("Content-Type", syncproto.ContentType)
	req.Header.Set("Content-Encoding", syncproto.ContentEncoding)
	req.Header.Set("Accept-Encoding", syncproto.ContentEncoding)
	if err := d.signer.Sign(req, body); err != nil {
		b.Error(err)
		return
	}
	resp, err := h.client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	var out syncproto.PushResponse
	if err := syncproto.ReadResponse(resp, 1<<20, &out); err != nil {
		b.Error(err)
		return
	}
	if len(out.Results) != n || out.Results[0].Status != syncproto.PushStored {
		b.Errorf("push: %d results", len(out.Results))
	}
}
