package account

import (
	"context"
	"encoding/base64"
	"iter"
	"strconv"

	"github.com/tenantry/tenantry/rbac"
)

// Page sizes.
const (
	DefaultPageSize = 100  // items in a page when PageRequest.Limit is 0
	MaxPageSize     = 1000 // the most items one page may hold
)

// PageRequest asks for one page of a listing: up to Limit items (DefaultPageSize when
// 0) after the cursor After, which is "" for the first page and a previous Page's Next
// for the following ones. A cursor is opaque and belongs to the listing that made it.
type PageRequest struct {
	After string
	Limit int
}

// Page is one page of a listing. Next is the cursor of the following page, or ""
// when this is the last one.
type Page[T any] struct {
	Items []T
	Next  string
}

// Lister is a paged query: every listing of this package.
type Lister[T any] interface {
	Query[Page[T]]
	from(after string) Lister[T]
}

// All ranges over every item of the listing q, page after page, each page in a
// read-only transaction of its own, starting after q's cursor. A listing changed
// between pages is read on from the cursor, as keyset paging does: no item is seen
// twice. The first error ends the sequence.
func All[T any](ctx context.Context, s *Service, actor rbac.Holder, q Lister[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := Get(ctx, s, actor, Query[Page[T]](q))
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			q = q.from(p.Next)
		}
	}
}

// limit returns the page size asked for, or an error.
func (p PageRequest) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultPageSize, nil
	case p.Limit < 0 || p.Limit > MaxPageSize:
		return 0, invalid("page.limit", "must be 0 to %d", MaxPageSize)
	}
	return p.Limit, nil
}

// cursor decodes After into the listing's key; "" for the first page.
func (p PageRequest) cursor() (string, error) {
	if p.After == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.After)
	if err != nil || len(b) == 0 || len(b) > 2*MaxIDLen+8 {
		return "", invalid("page.after", "not a cursor of this listing")
	}
	return string(b), nil
}

// seqCursor decodes After as a sequence number (0 for the first page).
func (p PageRequest) seqCursor() (uint64, error) {
	c, err := p.cursor()
	if err != nil || c == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, invalid("page.after", "not a cursor of this listing")
	}
	return n, nil
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// pageOf cuts a page of at most limit items from items, which are sorted by key and
// all after the cursor; more reports whether items held more than limit.
func pageOf[T any](items []T, limit int, key func(T) string) Page[T] {
	if len(items) <= limit {
		return Page[T]{Items: items}
	}
	items = items[:limit]
	return Page[T]{Items: items, Next: encodeCursor(key(items[limit-1]))}
}
