// The umbrella header: everything rill offers.
#pragma once

#include "rill/error.hpp"
#include "rill/runtime/builder.hpp"
#include "rill/runtime/join_handle.hpp"
#include "rill/runtime/runtime.hpp"
#include "rill/runtime/spawn.hpp"
#include "rill/runtime/yield_now.hpp"
#include "rill/sync/notify.hpp"
#include "rill/sync/oneshot.hpp"
#include "rill/task.hpp"
#include "rill/time/clock.hpp"
#include "rill/time/instant.hpp"
#include "rill/time/interval.hpp"
#include "rill/time/sleep.hpp"
#include "rill/time/timeout.hpp"
#include "rill/waker.hpp"
