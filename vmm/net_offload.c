/* net_offload.c: what a NIC does for a guest that hands it checksums and
 * segmentation (virtio 1.x 5.1.6.2), in software, for backends that take
 * only finished frames (libslirp), or for a guest that did not ask for
 * them. Pure: no threads, no devices; the unit tests call it directly.
 */
#include "virtio.h"
#include "lib/inet.h"

#include <string.h>

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define SEGMENT_MAX 16384 /* headers and payload of one cut frame */

int net_csum_finish(uint8_t *frame, size_t len, unsigned start, unsigned offset)
{
	if (start >= len || offset > len - start || len - start - offset < 2)
		return -1;
	/* the field holds the pseudo header's sum: it is summed with the
	 * rest, then the result replaces it */
	uint16_t c = inet_csum_done(inet_sum(frame + start, len - start, 0));
	memcpy(frame + start + offset, &c, 2);
	return 0;
}

int net_tso_split(const uint8_t *frame, size_t len, unsigned mss,
		  void (*emit)(void *arg, const uint8_t *f, size_t n),
		  void *arg)
{
	uint8_t out[SEGMENT_MAX];
	if (len < ETH_HLEN + 20 || frame[12] != 0x08 || frame[13] != 0x00)
		return -1;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IP_PROTO_TCP ||
	    len < ETH_HLEN + ihl + 20)
		return -1;
	const uint8_t *tcp = ip + ihl;
	size_t thl = (size_t)(tcp[12] >> 4) * 4;
	size_t hdrs = ETH_HLEN + ihl + thl;
	if (thl < 20 || hdrs > len || mss == 0 || hdrs + mss > sizeof(out))
		return -1;
	size_t data = len - hdrs;
	uint16_t id = (uint16_t)(ip[4] << 8 | ip[5]);
	uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
		       (uint32_t)tcp[6] << 8 | tcp[7];
	uint32_t src, dst;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	int n = 0;
	size_t off = 0;
	do {
		size_t k = data - off < mss ? data - off : mss;
		int last = off + k == data;
		memcpy(out, frame, hdrs);
		memcpy(out + hdrs, frame + hdrs + off, k);
		uint8_t *oip = out + ETH_HLEN, *otcp = oip + ihl;
		uint16_t total = (uint16_t)(ihl + thl + k);
		uint16_t oid = (uint16_t)(id + n);
		oip[2] = (uint8_t)(total >> 8);
		oip[3] = (uint8_t)total;
		oip[4] = (uint8_t)(oid >> 8);
		oip[5] = (uint8_t)oid;
		oip[10] = oip[11] = 0;
		uint16_t c = inet_csum_done(inet_sum(oip, ihl, 0));
		memcpy(oip + 10, &c, 2);
		uint32_t s = seq + (uint32_t)off;
		otcp[4] = (uint8_t)(s >> 24);
		otcp[5] = (uint8_t)(s >> 16);
		otcp[6] = (uint8_t)(s >> 8);
		otcp[7] = (uint8_t)s;
		if (!last)
			otcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (off)
			otcp[13] &= (uint8_t)~TCP_CWR;
		otcp[16] = otcp[17] = 0;
		uint32_t sum = inet_pseudo_sum(src, dst, IP_PROTO_TCP,
					       (uint16_t)(thl + k));
		c = inet_csum_done(inet_sum(otcp, thl + k, sum));
		memcpy(otcp + 16, &c, 2);
		emit(arg, out, hdrs + k);
		n++;
		off += k;
	} while (off < data);
	return n;
}
