/*
 * The attacker of SocketFileRaceTest, run as another user: while the proxy makes socket files in a
 * directory this user can write, swap each socket that appears at PATH for a symlink to VICTIM, and each
 * private directory the proxy makes there for a symlink to a directory whose "s" is a symlink to VICTIM.
 * Creates DIR/swapped at its first swap, stops when DIR/stop exists or after SECONDS, and prints
 * "socket-swaps dir-swaps".
 * Usage: racer PATH VICTIM SECONDS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    const char *path = argv[1], *victim = argv[2];
    time_t end = time(NULL) + atoi(argv[3]);
    char copy[4096], dir[4096], evil[4200], evil_s[4300], stop[4200], swapped[4200];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(dir, sizeof dir, "%s", dirname(copy));
    snprintf(evil, sizeof evil, "%s/evil", dir);
    snprintf(evil_s, sizeof evil_s, "%s/s", evil);
    snprintf(stop, sizeof stop, "%s/stop", dir);
    snprintf(swapped, sizeof swapped, "%s/swapped", dir);
    mkdir(evil, 0777);
    symlink(victim, evil_s);
    long swaps = 0, dir_swaps = 0;
    for (unsigned long i = 0;; i++) {
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) == 0 && symlink(victim, path) == 0) swaps++;
        if ((i & 15) == 0) {
            DIR *d = opendir(dir);
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL) {
                if (strncmp(e->d_name, ".epoll-proxy-", 13) != 0 || strstr(e->d_name, ".moved") != NULL) continue;
                char from[4400], to[4500];
                snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
                snprintf(to, sizeof to, "%s.moved", from);
                if (lstat(from, &st) == 0 && S_ISDIR(st.st_mode) && rename(from, to) == 0 && symlink(evil, from) == 0) dir_swaps++;
            }
            if (d != NULL) closedir(d);
        }
        if ((i & 255) == 0) {
            if (swaps + dir_swaps > 0 && access(swapped, F_OK) != 0) fclose(fopen(swapped, "w"));
            if (access(stop, F_OK) == 0 || time(NULL) > end) break;
        }
    }
    printf("%ld %ld\n", swaps, dir_swaps);
    return 0;
}
