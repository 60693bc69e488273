module carerules.org/carerules

go 1.19
