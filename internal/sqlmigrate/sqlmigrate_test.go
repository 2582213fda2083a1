package sqlmigrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_more.sql": {Data: []byte("-- +goose Up\nALTER x;\n-- +goose Down\nALTER y;\n")},
		"0001_init.sql": {Data: []byte("-- head\n-- +goose Up\n-- +goose StatementBegin\nCREATE a;\n-- +goose StatementEnd\n-- +goose Down\nDROP a;\n")},
	}
	ms, err := Load(fsys, "teststore")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 2 || ms[0].Up != "CREATE a;\n" || ms[1].Up != "ALTER x;\n" {
		t.Fatalf("Load = %+v", ms)
	}
	for name, body := range map[string]string{
		"x_bad.sql":     "-- +goose Up\n",
		"0001_none.sql": "CREATE a;\n",
		"0001_two.sql":  "-- +goose Up\n-- +goose Up\n",
		"0001_odd.sql":  "-- +goose Up\n-- +goose NO TRANSACTION\n",
	} {
		if _, err := Load(fstest.MapFS{name: {Data: []byte(body)}}, "teststore"); err == nil || !strings.HasPrefix(err.Error(), "teststore: ") {
			t.Errorf("%s: err = %v, want an error naming the store", name, err)
		}
	}
	if _, err := Load(fstest.MapFS{"0001_a.sql": {Data: []byte("-- +goose Up\n")}, "0001_b.sql": {Data: []byte("-- +goose Up\n")}}, "teststore"); err == nil {
		t.Error("two files of one version loaded")
	}
}
