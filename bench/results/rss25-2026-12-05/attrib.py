import sys,re,collections
def nmt_regions(fn):
    rs=[]
    for l in open(fn):
        m=re.match(r'^\[0x([0-9a-f]+) - 0x([0-9a-f]+)\] reserved(?: and committed)? \d+KB for (.+?) from',l)
        if m: rs.append((int(m.group(1),16),int(m.group(2),16),m.group(3)))
    return rs
def smaps(fn):
    out=[];cur=None
    for l in open(fn):
        m=re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$',l)
        if m: cur=[int(m.group(1),16),int(m.group(2),16),m.group(3),m.group(4),0]; out.append(cur)
        elif l.startswith('Rss:'): cur[4]=int(l.split()[1])
    return out
def attrib(pre):
    rs=nmt_regions(pre+'.nmt'); sm=smaps(pre+'.smaps')
    tot=collections.Counter()
    for s,e,p,n,rss in sm:
        if n.endswith('.aot') or n.endswith('.jsa'): tot['class archive (file mapping)']+=rss; continue
        if n and not n.startswith('['): tot['libjvm' if 'libjvm' in n else ('other shared libraries' if '.so' in n else 'other files ('+n.split('/')[-1]+')')]+=rss; continue
        if n=='[stack]': tot['main thread stack']+=rss; continue
        # anonymous (or [heap]): find the NMT region containing it
        cat=None
        for a,b,c in rs:
            if a<=s<b: cat=c; break
        if cat is None: cat='malloc (glibc heap/arenas, not NMT-reserved)'
        tot[cat]+=rss
    return tot
A=attrib(sys.argv[1]); B=attrib(sys.argv[2])
print("%-50s %8s %8s %8s"%("part (RSS, KiB)","proxy","empty","diff"))
for k in sorted(set(A)|set(B), key=lambda k:-(A[k]-B[k])):
    print("%-50s %8d %8d %8d"%(k,A[k],B[k],A[k]-B[k]))
print("%-50s %8d %8d %8d"%("total",sum(A.values()),sum(B.values()),sum(A.values())-sum(B.values())))
