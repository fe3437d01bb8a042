/*
 * replay.h - the main() of a fuzz driver built without libFuzzer
 * (-DFUZZ_STANDALONE): runs LLVMFuzzerTestOneInput over the files named
 * on the command line or, with none, over every file of
 * $top_srcdir/fuzz/corpus/<name>, and prints the "# counts:" line of the
 * unit tests.  This is how "make check" replays a corpus (gcc, valgrind).
 * Include it once, after LLVMFuzzerTestOneInput, and define
 * FUZZ_CORPUS to the corpus name.
 */
#ifndef FUZZ_REPLAY_H
#define FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one file through the driver; -1 if it cannot be read. */
static int
fuzz_replay_file(const char *path)
{
	FILE	*fp = fopen(path, "rb");
	uint8_t	*buf = NULL;
	long	 n;
	int	 rc = -1;

	if (fp == NULL)
		return -1;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, fp) == (size_t)n) {
		LLVMFuzzerTestOneInput(buf, (size_t)n);	/* aborts on a bug */
		rc = 0;
	}
	free(buf);
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*top = getenv("top_srcdir");
	char		 dir[2048], path[4096];
	struct dirent	*de;
	DIR		*d;
	int		 i, ok = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		if (fuzz_replay_file(argv[i]) == 0)
			ok++;
		else {
			perror(argv[i]);
			bad++;
		}
	}
	if (argc < 2) {
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s",
		    top != NULL && *top != '\0' ? top : ".", FUZZ_CORPUS);
		if ((d = opendir(dir)) == NULL) {
			perror(dir);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (fuzz_replay_file(path) == 0)
				ok++;
			else {
				perror(path);
				bad++;
			}
		}
		closedir(d);
	}
	printf("# counts: %d passed, %d failed\n", ok, bad);
	return bad == 0 && ok > 0 ? 0 : 1;
}

#endif
