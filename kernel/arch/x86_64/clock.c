/* clock.c: time, read without entering ring 0.
 *
 * Under KVM the clock is kvmclock: boot0 registers a pvclock structure
 * that KVM keeps current, and any-privilege code reads it with rdtsc
 * (native at CPL 3, 20 ns). Without kvmclock (QEMU TCG) the TSC is used
 * directly, its rate measured once against the PIT, and the wall clock is
 * read once from the CMOS RTC. Under KVM, sleeping arms the LAPIC
 * TSC-deadline timer and halts through the gate; short waits spin. Under
 * TCG the TSC and the timer do not agree (a 30 ms sleep took up to 800
 * ms), so waits spin there.
 */
#include "kernel.h"
#include "arch/x86_64/x86.h"

#define NSEC_PER_SEC 1000000000ULL
#define PIT_HZ 1193182ULL
#define PIT_CALIBRATE_MS 10
/* below this a halt costs more than it saves (KVM-HERE: ~45 us wake-up) */
#define SPIN_NS 100000ULL

struct pvclock_time {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall {
	uint32_t version, sec, nsec;
};

static struct pvclock_time pvclock __attribute__((aligned(64)));
static struct pvclock_wall pvwall __attribute__((aligned(64)));
static uint64_t tsc_at_boot;
static uint64_t realtime_at_boot_ns;

/* CMOS RTC registers (MC146818): seconds, minutes, hours, day, month,
 * year, century, status B; read in ring 0, decoded later. */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NREGS 8
static const uint8_t cmos_regs[CMOS_NREGS] = {0x00, 0x02, 0x04, 0x07,
					      0x08, 0x09, 0x32, 0x0b};
static uint8_t cmos[CMOS_NREGS];

static RING0 void cmos_read(void)
{
	outb(CMOS_INDEX, 0x0a);
	while (inb(CMOS_DATA) & 0x80) /* update in progress: < 2 ms */
		;
	for (int i = 0; i < CMOS_NREGS; i++) {
		outb(CMOS_INDEX, cmos_regs[i]);
		cmos[i] = inb(CMOS_DATA);
	}
}

static unsigned from_bcd(uint8_t v, int bcd)
{
	return bcd ? (v >> 4) * 10 + (v & 0xf) : v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The wall-clock time the RTC read at boot, in ns; 0 without an RTC. */
static uint64_t cmos_time_ns(void)
{
	if (cmos[0] == 0xff && cmos[3] == 0xff)
		return 0;
	int bcd = !(cmos[7] & 0x04), h12 = !(cmos[7] & 0x02);
	unsigned sec = from_bcd(cmos[0], bcd), min = from_bcd(cmos[1], bcd);
	unsigned hour = from_bcd(cmos[2] & 0x7f, bcd);
	if (h12 && (cmos[2] & 0x80))
		hour = hour % 12 + 12;
	else if (h12 && hour == 12)
		hour = 0;
	unsigned day = from_bcd(cmos[3], bcd), mon = from_bcd(cmos[4], bcd);
	unsigned year = from_bcd(cmos[5], bcd), cent = from_bcd(cmos[6], bcd);
	year += (cent >= 19 && cent <= 30) ? cent * 100 : 2000;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 60)
		return 0;
	int64_t days = days_from_civil(year, mon, day);
	return (uint64_t)((days * 86400 + hour * 3600 + min * 60 + sec) *
			  (int64_t)NSEC_PER_SEC);
}

/* PIT channel 0's counter, latched and read back. */
static RING0 uint16_t pit_count(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	return (uint16_t)(lo | inb(0x40) << 8);
}

/* Measure the TSC against PIT channel 0 counting down (mode 2), read
 * back through the latch: unlike the channel-2 method this needs no
 * port 0x61, which QEMU's microvm does not have. 0 if no PIT counts. */
static RING0 uint64_t pit_tsc_khz(void)
{
	uint64_t want = PIT_HZ * PIT_CALIBRATE_MS / 1000, ticks = 0;

	outb(0x43, 0x34); /* channel 0, lo/hi byte, mode 2, binary */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	uint16_t prev = pit_count();
	uint64_t t0 = rdtsc();
	for (uint64_t spins = 0; ticks < want; spins++) {
		uint16_t now = pit_count();
		ticks += (uint16_t)(prev - now);
		prev = now;
		if (spins > (1u << 20) && ticks == 0)
			return 0; /* nothing counts: no PIT */
	}
	return (rdtsc() - t0) * 1000 / (ticks * 1000000 / PIT_HZ);
}

RING0 void clock_boot0(void)
{
	tsc_at_boot = rdtsc();
	if (boot.kvmclock) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&pvclock) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, virt_to_phys(&pvwall));
		return;
	}
	if (!boot.tsc_khz)
		boot.tsc_khz = pit_tsc_khz();
	cmos_read();
}

static uint64_t pvclock_ns(void)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = __atomic_load_n(&pvclock.version, __ATOMIC_ACQUIRE);
		uint64_t delta = rdtsc() - pvclock.tsc_timestamp;
		if (pvclock.tsc_shift >= 0)
			delta <<= pvclock.tsc_shift;
		else
			delta >>= -pvclock.tsc_shift;
		ns = pvclock.system_time +
		     (uint64_t)(((unsigned __int128)delta *
				 pvclock.tsc_to_system_mul) >>
				32);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((v & 1) ||
		 v != __atomic_load_n(&pvclock.version, __ATOMIC_RELAXED));
	return ns;
}

/* 32.32 fixed-point factors between TSC ticks and ns, set by clock_init */
static uint64_t ns_per_tick, ticks_per_ns;

static uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_per_tick) >> 32);
}

static uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * ticks_per_ns) >> 32);
}

void clock_init(void)
{
	if (boot.kvmclock) {
		uint32_t v;
		do {
			v = __atomic_load_n(&pvwall.version, __ATOMIC_ACQUIRE);
			realtime_at_boot_ns =
				pvwall.sec * NSEC_PER_SEC + pvwall.nsec;
		} while ((v & 1) || v != pvwall.version);
		if (!boot.tsc_khz && pvclock.tsc_to_system_mul) {
			/* invert the pvclock scale: ns = ticks * mul >> (32 -
			 * shift) */
			uint64_t f =
				(1000000ULL << 32) / pvclock.tsc_to_system_mul;
			boot.tsc_khz = pvclock.tsc_shift >= 0
					       ? f >> pvclock.tsc_shift
					       : f << -pvclock.tsc_shift;
		}
	}
	if (!boot.kvmclock) {
		realtime_at_boot_ns = cmos_time_ns();
		if (!realtime_at_boot_ns)
			klog("no wall clock (no kvmclock, no RTC); "
			     "CLOCK_REALTIME starts at 1970");
	}
	if (!boot.tsc_khz) {
		klog("no clock source could be calibrated (no kvmclock, no "
		     "PIT); time runs at an assumed 1 GHz TSC");
		boot.tsc_khz = 1000000;
	}
	ns_per_tick = (1000000ULL << 32) / boot.tsc_khz;
	ticks_per_ns = (boot.tsc_khz << 32) / 1000000;
}

uint64_t clock_monotonic_ns(void)
{
	if (boot.kvmclock)
		return pvclock_ns();
	return tsc_to_ns(rdtsc() - tsc_at_boot);
}

uint64_t clock_realtime_ns(void)
{
	/* kvmclock's wall clock is the time at system_time 0 */
	return realtime_at_boot_ns + clock_monotonic_ns();
}

uint64_t clock_tsc_at(uint64_t ns)
{
	uint64_t now = clock_monotonic_ns();
	return rdtsc() + (ns > now ? ns_to_tsc(ns - now) : 0);
}

void clock_wait_change(const volatile uint16_t *word, uint16_t seen,
		       uint64_t deadline)
{
	while (*word == seen) {
		uint64_t now = clock_monotonic_ns();
		if (now >= deadline)
			return;
		if (boot.kvmclock && boot.tsc_deadline) {
			gate_call(GATE_IDLE_WATCH,
				  (long)(rdtsc() + ns_to_tsc(deadline - now)),
				  (long)word, seen);
			timer_armed_tsc = 0; /* the wait took the timer */
			timers_check();
		} else {
			cpu_relax();
		}
	}
}

void clock_sleep_until(uint64_t deadline)
{
	uint64_t now = clock_monotonic_ns();

	if (now >= deadline)
		return;
	if (boot.kvmclock && boot.tsc_deadline && deadline - now > SPIN_NS) {
		/* one halt: any interrupt (a host event) ends it early */
		gate_call(GATE_IDLE,
			  (long)(rdtsc() + ns_to_tsc(deadline - now)), 0, 0);
		return;
	}
	while (clock_monotonic_ns() < deadline && !host_events)
		cpu_relax();
}
