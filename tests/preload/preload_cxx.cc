// preload_cxx.cc: C++ new/delete (plain, array, sized, aligned, nothrow)
// and the standard containers reach the preloaded allocator.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>
#include <dlfcn.h>
#include <malloc.h>

struct alignas(64) Wide {
	char b[100];
};

int main()
{
	Dl_info info;
	void *fn = dlsym(RTLD_DEFAULT, "malloc");
	if (!fn || !dladdr(fn, &info) || !std::strstr(info.dli_fname, "libgoalloc")) {
		std::fprintf(stderr, "not preloaded\n");
		return 2;
	}
	int fails = 0;
	auto check = [&](bool ok, const char *what) {
		if (!ok) {
			std::fprintf(stderr, "FAIL: %s\n", what);
			fails++;
		}
	};
	int *p = new int(7);
	check(malloc_usable_size(p) == 4, "new int is a 4-byte tiny object of our heap");
	delete p;
	char *a = new char[17];
	check(malloc_usable_size(a) == 32, "new char[17] is served from the 32-byte class (C-safe)");
	delete[] a;
	Wide *w = new Wide;
	check(reinterpret_cast<uintptr_t>(w) % 64 == 0, "aligned new");
	delete w;
	Wide *wa = new Wide[10];
	check(reinterpret_cast<uintptr_t>(wa) % 64 == 0, "aligned new[]");
	delete[] wa;
	int *n = new (std::nothrow) int[1000];
	check(n != nullptr, "nothrow new");
	delete[] n;
	bool threw = false;
	try {
		volatile size_t huge = SIZE_MAX / 4;
		char *volatile h = new char[huge]; /* volatile: the pair must not be elided */
		delete[] h;
	} catch (const std::bad_alloc &) {
		threw = true;
	}
	check(threw, "new of an impossible size throws bad_alloc");
	std::map<std::string, std::vector<int>> m;
	for (int i = 0; i < 20000; i++)
		m["key" + std::to_string(i % 5000)].push_back(i);
	long sum = 0;
	for (auto &kv : m)
		for (int v : kv.second)
			sum += v;
	check(sum == 199990000L, "container contents");
	auto sp = std::make_shared<std::string>(1000, 'x');
	check(sp->size() == 1000 && (*sp)[999] == 'x', "make_shared");
	std::printf("preload_cxx: %s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
