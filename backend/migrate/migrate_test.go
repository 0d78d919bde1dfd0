package migrate

import (
	"testing"
	"testing/fstest"
)

func TestFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"in order", fstest.MapFS{"s/0002_b.sql": {Data: []byte("B")}, "s/0001_a.sql": {Data: []byte("A")}}, []int{1, 2}, false},
		{"a gap", fstest.MapFS{"s/0001_a.sql": {}, "s/0003_c.sql": {}}, nil, true},
		{"no number", fstest.MapFS{"s/init.sql": {}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Files(tc.files, "s")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d files, want %d", len(got), len(tc.want))
			}
			for i, f := range got {
				if f.Version != tc.want[i] {
					t.Errorf("file %d: version %d, want %d", i, f.Version, tc.want[i])
				}
			}
		})
	}
}
