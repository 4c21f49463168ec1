// The doubly linked waiter lists of rill's primitives (notify, the batch semaphore, the
// channels): the owner keeps `head`/`tail`, each waiter its own prev/next links (named by
// member pointers), and every call runs under the owner's lock.
#pragma once

namespace rill::detail {

/// Appends `w` to the list head..tail.
template <auto Prev, auto Next, class T>
void list_push_back(T*& head, T*& tail, T* w) noexcept {
    w->*Prev = tail;
    w->*Next = nullptr;
    if (tail) {
        tail->*Next = w;
    } else {
        head = w;
    }
    tail = w;
}

/// Unlinks `w` (which must be in the list) and clears its links.
template <auto Prev, auto Next, class T>
void list_unlink(T*& head, T*& tail, T* w) noexcept {
    if (w->*Prev) {
        w->*Prev->*Next = w->*Next;
    } else {
        head = w->*Next;
    }
    if (w->*Next) {
        w->*Next->*Prev = w->*Prev;
    } else {
        tail = w->*Prev;
    }
    w->*Prev = w->*Next = nullptr;
}

}  // namespace rill::detail
