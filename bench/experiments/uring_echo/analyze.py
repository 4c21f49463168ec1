import sys, statistics as st, collections
rate=collections.defaultdict(dict)
for l in open(sys.argv[1]):
    f=l.split()
    if len(f)>=3 and f[2]!='FAIL': rate[f[1]][f[0]]=float(f[2])
t=rate['tokio']
for v,d in rate.items():
    rs=list(d.values()); ratios=[d[r]/t[r] for r in d if r in t]
    print(f"{v:20s} n={len(rs)} median_rate={st.median(rs):8.0f} median_ratio_vs_tokio={st.median(ratios):.2f} runs={sorted(int(x) for x in rs)}")
