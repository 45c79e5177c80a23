// unwind_plugin.cc: a C++ library for preload_unwind.c, which a C program
// dlopens: it throws and catches through its own C++ runtime.
#include <stdexcept>

static int pick(int i)
{
	if (i % 3 == 0)
		throw std::runtime_error("every third");
	return i;
}

extern "C" long unwind_plugin_run(int n)
{
	long s = 0;
	for (int i = 0; i < n; i++) {
		try {
			s += pick(i);
		} catch (const std::exception &) {
			s += 1;
		}
	}
	return s;
}
