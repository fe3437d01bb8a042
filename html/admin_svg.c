/*
 * The overview's charts, drawn by the server as inline SVG: nothing to
 * load, nothing to run, and the colours come from the page's CSS classes
 * so light and dark both work.  Names are escaped as element text.
 */
#include "config.h"

#include <stdio.h>

#include "html/admin.h"
#include "html/escape.h"

#define W	600.0	/* viewBox */
#define H	160.0
#define PADL	44.0	/* room for the axis labels */
#define PADB	18.0
#define PADT	8.0

static double
max_of(const double *v, size_t n, double floor)
{
	double m = floor;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* A round top for the axis, so the labels read well. */
static double
nice_top(double m)
{
	double step = 1;

	while (step * 10 < m)
		step *= 10;
	if (m <= step * 2)
		return step * 2;
	if (m <= step * 5)
		return step * 5;
	return step * 10;
}

static void
svg_open(struct buf *b, const char *title, double top, const char *unit,
    const char *span)
{
	buf_adds(b, "<svg class=\"chart\" viewBox=\"0 0 600 160\" "
	    "role=\"img\"><title>");
	html_txts(b, title);
	buf_adds(b, "</title>");
	buf_printf(b, "<line class=\"ch-axis\" x1=\"%.0f\" y1=\"%.0f\" "
	    "x2=\"%.0f\" y2=\"%.0f\"/>", PADL, H - PADB, W, H - PADB);
	buf_printf(b, "<line class=\"ch-grid\" x1=\"%.0f\" y1=\"%.0f\" "
	    "x2=\"%.0f\" y2=\"%.0f\"/>", PADL, PADT, W, PADT);
	buf_printf(b, "<text class=\"ch-txt\" x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">%g%s</text>", PADL - 4, PADT + 8, top, unit);
	buf_printf(b, "<text class=\"ch-txt\" x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">0</text>", PADL - 4, H - PADB);
	buf_printf(b, "<text class=\"ch-txt\" x=\"%.0f\" y=\"%.0f\">",
	    PADL, H - 4);
	html_txts(b, span);
	buf_printf(b, "</text><text class=\"ch-txt\" x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">now</text>", W, H - 4);
}

void
admin_svg_minutes(struct buf *b, const char *title, const char *span,
    const double *total, const double *errors, size_t n)
{
	double top = nice_top(max_of(total, n, 1)), cw, x, h, he;
	double ph = H - PADB - PADT;
	size_t i;

	svg_open(b, title, top, "", span);
	cw = (W - PADL) / (double)(n ? n : 1);
	for (i = 0; i < n; i++) {
		x = PADL + cw * (double)i;
		h = total[i] / top * ph;
		he = errors[i] / top * ph;
		if (h > 0)
			buf_printf(b, "<rect class=\"ch-bar\" x=\"%.1f\" "
			    "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>"
			    "%.0f requests, %.0f errors</title></rect>", x + 1,
			    H - PADB - h, cw - 2, h, total[i], errors[i]);
		if (he > 0)
			buf_printf(b, "<rect class=\"ch-err\" x=\"%.1f\" "
			    "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
			    x + 1, H - PADB - he, cw - 2, he);
	}
	buf_adds(b, "</svg>");
}

void
admin_svg_latency(struct buf *b, const char *title, const char *span,
    const double *avg_ms, size_t n, double p50_ms, double p95_ms)
{
	double top = nice_top(max_of(avg_ms, n, p95_ms > 1 ? p95_ms : 1));
	double ph = H - PADB - PADT, cw = (W - PADL) / (double)(n ? n : 1);
	double y;
	size_t i;
	int pen = 0;

	svg_open(b, title, top, " ms", span);
	buf_adds(b, "<path class=\"ch-line\" d=\"");
	for (i = 0; i < n; i++) {
		if (avg_ms[i] <= 0) {
			pen = 0;	/* no request in that bucket: a gap */
			continue;
		}
		buf_printf(b, "%c%.1f %.1f ", pen ? 'L' : 'M',
		    PADL + cw * ((double)i + 0.5),
		    H - PADB - avg_ms[i] / top * ph);
		pen = 1;
	}
	buf_adds(b, "\"/>");
	/* a dot per bucket too: a lone bucket draws no line */
	for (i = 0; i < n; i++)
		if (avg_ms[i] > 0)
			buf_printf(b, "<circle class=\"ch-dot\" cx=\"%.1f\" "
			    "cy=\"%.1f\" r=\"3\"><title>%.0f ms</title></circle>",
			    PADL + cw * ((double)i + 0.5),
			    H - PADB - avg_ms[i] / top * ph, avg_ms[i]);
	if (p50_ms >= 0) {
		y = H - PADB - p50_ms / top * ph;
		buf_printf(b, "<line class=\"ch-p50\" x1=\"%.0f\" y1=\"%.1f\" "
		    "x2=\"%.0f\" y2=\"%.1f\"/><text class=\"ch-txt\" "
		    "x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">p50</text>",
		    PADL, y, W, y, W - 2, y - 3);
	}
	if (p95_ms >= 0) {
		y = H - PADB - p95_ms / top * ph;
		buf_printf(b, "<line class=\"ch-p95\" x1=\"%.0f\" y1=\"%.1f\" "
		    "x2=\"%.0f\" y2=\"%.1f\"/><text class=\"ch-txt\" "
		    "x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">p95</text>",
		    PADL, y, W, y, W - 40, y - 3);
	}
	buf_adds(b, "</svg>");
}

void
admin_svg_share(struct buf *b, const char *title, const struct admin_bar *v,
    size_t n)
{
	double sum = 0, top = 0, y;
	size_t i;

	for (i = 0; i < n; i++) {
		sum += v[i].value;
		if (v[i].value > top)
			top = v[i].value;
	}
	buf_printf(b, "<svg class=\"chart share\" viewBox=\"0 0 600 %zu\" "
	    "role=\"img\"><title>", n ? 24 * n + 4 : 28);
	html_txts(b, title);
	buf_adds(b, "</title>");
	if (n == 0)
		buf_adds(b, "<text class=\"ch-txt\" x=\"0\" y=\"18\">"
		    "No requests yet today.</text>");
	for (i = 0; i < n; i++) {
		y = 24.0 * (double)i + 4;
		buf_adds(b, "<text class=\"ch-name\" x=\"0\" ");
		buf_printf(b, "y=\"%.0f\">", y + 14);
		html_txts(b, v[i].name);
		buf_printf(b, "</text><rect class=\"ch-bar\" x=\"180\" "
		    "y=\"%.0f\" width=\"%.1f\" height=\"16\"/>", y + 2,
		    top > 0 ? v[i].value / top * 340.0 : 0);
		buf_printf(b, "<text class=\"ch-txt\" x=\"594\" y=\"%.0f\" "
		    "text-anchor=\"end\">%.0f (%.0f%%)</text>", y + 14,
		    v[i].value, sum > 0 ? v[i].value * 100.0 / sum : 0);
	}
	buf_adds(b, "</svg>");
}
