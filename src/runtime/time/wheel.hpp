// A hierarchical timing wheel: 6 levels of 64 slots, 1 ms resolution (DESIGN §6).
//
// Level l slots are 64^l ms wide, so the wheel spans 64^6 ms (about 2.2 years). A timer
// goes to the level of the highest 6-bit group in which its deadline differs from
// `elapsed_`: every timer on level l then expires before every timer on level l+1, so
// the next expiration is found by looking at the levels in order, each with one bit scan
// of its occupied bitmap. When a slot of a level above 0 expires, its timers are
// re-inserted (cascade) at lower levels.
//
// The top level is a ring (as in Tokio): a deadline up to max_span ahead can land in the
// top-level slot that `elapsed_` is in now, one rotation ahead, so on that level a slot
// whose start is not after `elapsed_` expires one level range later, and the scan for
// the next slot looks at the current slot last. A deadline beyond the span is placed as
// if it were elapsed_ + max_span but keeps its real deadline_ms_: when that slot
// expires the timer is not due and is re-inserted, closer each time (a sleep of years
// neither fires early nor spins).
//
// Not thread-safe: a wheel belongs to one shard and is used under the shard's mutex.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>

#include "rill/detail/timer_entry.hpp"

namespace rill::detail {

class timer_wheel {
public:
    static constexpr unsigned levels = 6;
    static constexpr unsigned slots = 64;
    static constexpr std::uint64_t max_span = (std::uint64_t{1} << (6 * levels)) - 1;

    /// Milliseconds processed so far: every timer with deadline <= elapsed() has fired.
    std::uint64_t elapsed() const noexcept { return elapsed_; }
    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }

    /// Inserts `e` (deadline_ms_ set). Returns false when the deadline has already
    /// passed (<= elapsed): the caller fires it at once.
    bool insert(timer_entry* e) noexcept {
        if (e->deadline_ms_ <= elapsed_) return false;
        // Beyond the span: place it at the span's end; its deadline stays (see top).
        const std::uint64_t when =
            e->deadline_ms_ - elapsed_ > max_span ? elapsed_ + max_span : e->deadline_ms_;
        const unsigned lvl = level_for(elapsed_, when);
        const unsigned slot = slot_for(when, lvl);
        e->level_ = static_cast<std::uint8_t>(lvl);
        e->slot_ = static_cast<std::uint8_t>(slot);
        timer_entry*& head = slots_[lvl][slot];
        e->prev_ = nullptr;
        e->next_ = head;
        if (head) head->prev_ = e;
        head = e;
        occupied_[lvl] |= std::uint64_t{1} << slot;
        ++count_;
        return true;
    }

    /// Unlinks a registered entry in O(1).
    void remove(timer_entry* e) noexcept {
        timer_entry*& head = e->level_ == pending_level ? pending_ : slots_[e->level_][e->slot_];
        if (e->prev_) {
            e->prev_->next_ = e->next_;
        } else {
            head = e->next_;
        }
        if (e->next_) e->next_->prev_ = e->prev_;
        if (e->level_ != pending_level && head == nullptr) occupied_[e->level_] &= ~(std::uint64_t{1} << e->slot_);
        e->prev_ = e->next_ = nullptr;
        --count_;
    }

    /// The earliest time at which some slot expires, if any timer is registered.
    std::optional<std::uint64_t> next_expiration() const noexcept {
        if (pending_) return elapsed_;
        for (unsigned lvl = 0; lvl < levels; ++lvl) {
            if (occupied_[lvl] == 0) continue;
            return slot_start(lvl, next_slot(lvl));
        }
        return std::nullopt;
    }

    /// Advances to `now`, calling `fire(entry)` for each timer whose deadline <= now
    /// (unlinked; the callback owns it from then on). `fire` returns false to stop early
    /// (its batch is full): call again to continue. Returns true when caught up.
    ///
    /// An expiring slot is emptied at once: due timers move to the `pending_` list (in
    /// deadline order of the slots they came from), the others cascade to lower levels.
    /// Pending timers fire before any other slot is looked at, so stopping early never
    /// lets a later timer overtake an earlier one.
    template <class Fire>
    bool advance(std::uint64_t now, Fire&& fire) {
        for (;;) {
            while (pending_) {
                timer_entry* e = pending_;
                pending_ = e->next_;
                if (pending_) pending_->prev_ = nullptr;
                e->prev_ = e->next_ = nullptr;
                --count_;
                if (!fire(e)) return false;
            }
            std::optional<std::uint64_t> next = next_slot_expiration();
            if (!next || *next > now) break;
            const unsigned lvl = next_level_;
            const unsigned slot = next_slot(lvl);
            if (*next > elapsed_) elapsed_ = *next;
            timer_entry* list = slots_[lvl][slot];
            slots_[lvl][slot] = nullptr;
            occupied_[lvl] &= ~(std::uint64_t{1} << slot);
            timer_entry* pending_tail = nullptr;
            while (list) {
                timer_entry* e = list;
                list = e->next_;
                if (e->deadline_ms_ <= now) {
                    // Keep it registered (removable) on the pending list.
                    e->level_ = pending_level;
                    e->next_ = nullptr;
                    e->prev_ = pending_tail;
                    if (pending_tail) {
                        pending_tail->next_ = e;
                    } else {
                        pending_ = e;
                    }
                    pending_tail = e;
                } else {
                    e->prev_ = e->next_ = nullptr;
                    --count_;
                    reinsert(e);  // cascade to a lower level
                }
            }
        }
        if (now > elapsed_) elapsed_ = now;
        return true;
    }

private:
    void reinsert(timer_entry* e) noexcept {
        if (!insert(e)) {
            // Cannot happen: a cascaded timer's deadline is after the slot start.
            e->deadline_ms_ = elapsed_ + 1;
            insert(e);
        }
    }

    static unsigned level_for(std::uint64_t elapsed, std::uint64_t when) noexcept {
        const std::uint64_t masked = (elapsed ^ when) | (slots - 1);
        const unsigned significant = 63 - static_cast<unsigned>(std::countl_zero(masked));
        const unsigned lvl = significant / 6;
        return lvl < levels ? lvl : levels - 1;
    }
    static unsigned slot_for(std::uint64_t when, unsigned lvl) noexcept {
        return static_cast<unsigned>((when >> (6 * lvl)) & (slots - 1));
    }
    unsigned next_slot(unsigned lvl) const noexcept {
        // Below the top level the slot of elapsed_ is never occupied (a timer there would
        // belong to a lower level). On the top level it can be, one rotation ahead: scan
        // it last, so that the slots after it (earlier expirations) come first.
        unsigned first = slot_for(elapsed_, lvl);
        if (lvl == levels - 1) first = (first + 1) % slots;
        const std::uint64_t rotated = std::rotr(occupied_[lvl], static_cast<int>(first));
        return (first + static_cast<unsigned>(std::countr_zero(rotated))) % slots;
    }
    std::uint64_t slot_start(unsigned lvl, unsigned slot) const noexcept {
        const std::uint64_t slot_range = std::uint64_t{1} << (6 * lvl);
        const std::uint64_t level_range = slot_range * slots;
        const std::uint64_t level_start = elapsed_ & ~(level_range - 1);
        std::uint64_t start = level_start + slot * slot_range;
        if (start + slot_range <= elapsed_) {
            start += level_range;  // wrapped around
        } else if (lvl == levels - 1 && start <= elapsed_) {
            start += level_range;  // the top level's current slot: one rotation ahead
        }
        return start;
    }
    std::optional<std::uint64_t> next_slot_expiration() noexcept {
        for (unsigned lvl = 0; lvl < levels; ++lvl) {
            if (occupied_[lvl] == 0) continue;
            next_level_ = lvl;
            return slot_start(lvl, next_slot(lvl));
        }
        return std::nullopt;
    }

    static constexpr std::uint8_t pending_level = 0xFF;

    std::uint64_t elapsed_ = 0;
    std::size_t count_ = 0;
    timer_entry* pending_ = nullptr;  // expired, not yet fired (see advance)
    unsigned next_level_ = 0;
    std::array<std::uint64_t, levels> occupied_{};
    std::array<std::array<timer_entry*, slots>, levels> slots_{};
};

}  // namespace rill::detail
