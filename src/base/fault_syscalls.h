// The syscalls fault injection's actions (fault.h) need under seccomp: the
// generator bakes a filter with them for the faulty builds, and the faulty
// daemon allows them. Apart from fault.h, which the real helper includes.
#pragma once

#include <vector>

namespace ub::fault {

std::vector<int> fault_syscalls();

}  // namespace ub::fault
