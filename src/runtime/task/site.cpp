// Interned task sites: the (vtable, scheduler, spawn location) every task points to.
//
// Design:
// - A task cell keeps one pointer to its site instead of three fields, which is what lets
//   a cell fit in 64 bytes (docs/design/task_model.md). Tasks spawned from one place onto
//   one scheduler share a site; a program has as many sites per scheduler as it has
//   spawn sites (and task types) that reach it.
// - Each scheduler owns the sites of its tasks (freed with it: every cell holds a
//   reference on its runtime, so no cell outlives its sites). Sites of mock tasks, which
//   have no scheduler, live in one process-wide table that is never freed.
// - Lookups go through a small per-thread direct-mapped cache. An entry also records the
//   scheduler's epoch (unique per scheduler ever made), so a new scheduler allocated at
//   a freed one's address never matches the old one's entries. A miss takes the table's
//   mutex.
#include <atomic>
#include <bit>
#include <cstdint>
#include <mutex>
#include <new>
#include <unordered_map>

#include "runtime/task/site.hpp"

namespace rill::detail {

using sites::loc_key;
using sites::slot_of;
using sites::cache_entry;
using sites::epoch_of;

namespace {


struct key_hash {
    std::size_t operator()(const std::pair<const task_vtable*, std::uintptr_t>& k) const noexcept {
        return std::hash<const void*>()(k.first) * 31 + std::hash<std::uintptr_t>()(k.second);
    }
};

struct site_table {
    std::mutex mutex;
    std::unordered_map<std::pair<const task_vtable*, std::uintptr_t>, task_site*, key_hash> sites;
    ~site_table() {
        for (auto& [k, s] : sites) delete s;
    }
};

std::atomic<std::uint64_t> g_next_epoch{1};

site_table& mock_sites() {
    static site_table* t = new site_table;  // never freed: mock cells may outlive main
    return *t;
}


const task_site* find_or_add(site_table& t, scheduler_base* s, const task_vtable* vt, std::source_location loc) {
    std::lock_guard lock(t.mutex);
    auto [it, inserted] = t.sites.try_emplace({vt, loc_key(loc)}, nullptr);
    if (inserted) {
        try {
            it->second = new task_site{vt, s, loc};
        } catch (...) {
            t.sites.erase(it);
            throw;
        }
    }
    return it->second;
}

}  // namespace

scheduler_base::scheduler_base() noexcept : epoch_(g_next_epoch.fetch_add(1, std::memory_order_relaxed)) {}

scheduler_base::~scheduler_base() { delete static_cast<site_table*>(sites_.load(std::memory_order_acquire)); }

namespace sites {
constinit thread_local cache_entry t_cache[cache_size];
}  // namespace sites

const task_site* intern_site(scheduler_base* s, const task_vtable* vt, std::source_location loc) {
    return sites::lookup(s, vt, loc);
}

const task_site* sites::intern_slow(scheduler_base* s, const task_vtable* vt, std::source_location loc) {
    const std::uintptr_t lk = loc_key(loc);
    cache_entry& e = t_cache[slot_of(vt, lk)];
    site_table* t;
    if (s == nullptr) {
        t = &mock_sites();
    } else {
        // The table is made on the first spawn; sites_ is read under no lock after that,
        // so it is published with a CAS.
        std::atomic<void*>* slot = &s->sites_;
        void* cur = slot->load(std::memory_order_acquire);
        if (cur == nullptr) {
            auto* fresh = new site_table;
            if (slot->compare_exchange_strong(cur, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
                cur = fresh;
            } else {
                delete fresh;
            }
        }
        t = static_cast<site_table*>(cur);
    }
    const task_site* site = find_or_add(*t, s, vt, loc);
    e = cache_entry{lk, vt, epoch_of(s), site};
    return site;
}

}  // namespace rill::detail
