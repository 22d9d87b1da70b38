package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// How a record version is written, so that a crash never makes the truth look
// tampered with and a lost answer is never taken for a refusal:
//
//  1. The audit event describing the change is written first (an intent),
//     carrying the SHA-256 of the version about to be written. Verify
//     reports a stored version that no event vouches for as written behind
//     the server's back; an event whose version never appeared is a write
//     that did not happen (a crash, a lost race for a number), which Verify
//     counts but does not call a problem.
//  2. The record object is written with the create-only or compare-and-swap
//     write. When the storage refuses it (the number is taken, the record
//     changed meanwhile) an "aborted" event says so beside the intent.
//  3. When the write was sent but not answered, the record is read back for
//     up to resolveWait: our own bytes there mean it was done. Otherwise the
//     outcome stays unknown, and the caller is told so (EUNKNOWN), not that
//     nothing was written.
//  4. The hook (the server's index) and the change feed learn of the write.

// ActionAborted is the audit action that marks an intent whose write the
// storage refused.
const ActionAborted = "record.aborted"

// resolveWait is how long, by default, a write whose answer was lost is
// looked for (Options.ResolveWait).
const resolveWait = 15 * time.Second

// intend appends ev, the audit event of a write about to be made, and
// returns it with its ID. Nothing has been written yet when it fails, so an
// unknown outcome of the event itself is reported as plain unavailability.
func (s *Store) intend(ctx context.Context, ev Event) (Event, error) {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = ev.Time.UTC()
	ev.ID = s.newULID(ev.Time)
	if _, err := s.createJSON(ctx, auditKey(ev.Time, ev.ID), ev); err != nil {
		return ev, storageErr("append audit event", notWritten(err))
	}
	return ev, nil
}

// abort records that the write of intent did not happen, because why.
func (s *Store) abort(ctx context.Context, intent Event, why string) {
	// Written even when the caller has gone (a shutdown cancelling an
	// import): the intent is already stored and wants its conclusion.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceTimeout)
	defer cancel()
	s.auditBestEffort(ctx, Event{Actor: intent.Actor, Action: ActionAborted, Target: intent.Target,
		Before: intent.After, Detail: why + " (intent " + intent.ID + ")"})
}

// notWritten turns an unknown outcome of a write that comes before the
// record's own (a claim, an intent, a kept version) into plain
// unavailability: the record itself was not written.
func notWritten(err error) error {
	if errors.Is(err, ErrOutcomeUnknown) {
		return fmt.Errorf("%w (before the record was written): %v", ErrUnavailable, err)
	}
	return err
}

// createObject creates key with b, resolving a lost answer (see resolve).
func (s *Store) createObject(ctx context.Context, key string, b []byte) (ObjectInfo, error) {
	info, err := s.bucket.Create(ctx, key, bytes.NewReader(b), int64(len(b)))
	if errors.Is(err, ErrOutcomeUnknown) {
		return s.resolve(ctx, key, b, "", err)
	}
	return info, err
}

// replaceObject replaces the version etag of key with b, resolving a lost
// answer (see resolve).
func (s *Store) replaceObject(ctx context.Context, key, etag string, b []byte) (ObjectInfo, error) {
	info, err := s.bucket.Replace(ctx, key, etag, bytes.NewReader(b), int64(len(b)))
	if errors.Is(err, ErrOutcomeUnknown) {
		return s.resolve(ctx, key, b, etag, err)
	}
	return info, err
}

// resolve finds out what became of a conditional write of b at key whose
// answer was lost: our bytes stored there mean it was done; other bytes
// than the version it was to replace (old; "" for a create) mean someone
// else's write won, and ours can no longer be done (fs.ErrExist for a
// create, ErrPrecondition for a replace). Nothing yet, or the old version
// still, after resolveWait (or while the storage does not answer) leaves the
// outcome unknown: lost is returned.
func (s *Store) resolve(ctx context.Context, key string, b []byte, old string, lost error) (ObjectInfo, error) {
	s.log.Warn("a write was not answered; reading it back to find out whether it was done", "key", key, "err", lost)
	deadline := time.Now().Add(s.resolveWait)
	for {
		info, got, err := s.readBack(ctx, key, len(b))
		switch {
		case err == nil && bytes.Equal(got, b):
			s.log.Info("the unanswered write was done", "key", key)
			return info, nil
		case err == nil && info.ETag != old:
			if old == "" {
				return ObjectInfo{}, fmt.Errorf("archive: %s was written by another process: %w", key, fs.ErrExist)
			}
			return ObjectInfo{}, fmt.Errorf("archive: %s was changed by another process: %w", key, ErrPrecondition)
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrUnavailable):
			return ObjectInfo{}, err
		}
		if time.Now().After(deadline) {
			return ObjectInfo{}, lost
		}
		select {
		case <-ctx.Done():
			return ObjectInfo{}, lost
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// readBack reads key whole if it is no longer than n bytes (longer is not
// ours: its info is returned with no bytes).
func (s *Store) readBack(ctx context.Context, key string, n int) (ObjectInfo, []byte, error) {
	rc, info, err := s.bucket.Get(ctx, key)
	if err != nil {
		return ObjectInfo{}, nil, err
	}
	defer rc.Close()
	got, err := io.ReadAll(io.LimitReader(rc, int64(n)+1))
	if err != nil {
		return ObjectInfo{}, nil, err
	}
	if len(got) > n {
		got = nil
	}
	return info, got, nil
}
