;;; The side-by-side workload in CLIPS 6.30 (see ../gen.py for the decisions).
;;;
;;; The harness (clips_harness.cpp) asserts, per institution, one `institution` fact and one
;;; `equipment` fact per item of special equipment, runs, reads the `hazard` and `outcome`
;;; facts, and clears the facts for the next institution. Booleans are the symbols TRUE and
;;; FALSE, a missing appraisal is nil, dates are integers yyyymmdd.

(defglobal ?*asof* = 20240601)          ; the evaluation date, 2024-06-01

(deftemplate institution
  (slot appraisal)                      ; A B C D or nil
  (slot major-hazard)
  (slot fire-compliant)
  (slot panels-flammable)
  (slot clinic-exists) (slot clinic-licensed) (slot clinic-filed)
  (slot canteen-exists) (slot food-licence)
  (slot staff-unqualified)
  (slot other-major)
  (slot fire-L) (slot fire-E) (slot fire-C)
  (slot food-L) (slot food-E) (slot food-C)
  (slot facilities-likelihood) (slot facilities-severity)
  (slot emergency-likelihood) (slot emergency-severity))

(deftemplate equipment                   ; one fact per item of special equipment
  (slot item (type INTEGER))            ; its position in the list: identical items stay two facts
  (slot licensed)
  (slot valid-until (type INTEGER)))

(deftemplate hazard (slot id))          ; one fact per major hazard present
(deftemplate outcome (slot colour))     ; the institution's colour

;;; Area bands: 0 blue, 1 yellow, 2 orange, 3 red.

(deffunction lec-band (?l ?e ?c)
  (bind ?d (* ?l ?e ?c))
  (if (>= ?d 320) then 3 else (if (>= ?d 160) then 2 else (if (>= ?d 70) then 1 else 0))))

(deffunction matrix-band (?likelihood ?severity)
  (bind ?r (* ?likelihood ?severity))
  (if (>= ?r 20) then 3 else (if (>= ?r 15) then 2 else (if (>= ?r 9) then 1 else 0))))

;;; Major hazards.

(defrule A4.1-building
  (or (institution (appraisal C | D))
      (institution (major-hazard TRUE)))
  =>
  (assert (hazard (id A4.1))))

(defrule A4.2-fire
  (institution (fire-compliant FALSE))
  =>
  (assert (hazard (id A4.2))))

(defrule A4.3-panels
  (institution (panels-flammable TRUE))
  =>
  (assert (hazard (id A4.3))))

(defrule A4.4-equipment
  (exists (or (equipment (licensed FALSE))
              (equipment (valid-until ?d&:(< ?d ?*asof*)))))
  =>
  (assert (hazard (id A4.4))))

(defrule A5.1-clinic
  (institution (clinic-exists TRUE) (clinic-licensed FALSE) (clinic-filed FALSE))
  =>
  (assert (hazard (id A5.1))))

(defrule A5.2-canteen
  (institution (canteen-exists TRUE) (food-licence FALSE))
  =>
  (assert (hazard (id A5.2))))

(defrule A5.3-staff
  (institution (staff-unqualified TRUE))
  =>
  (assert (hazard (id A5.3))))

(defrule A2-other
  (institution (other-major TRUE))
  =>
  (assert (hazard (id A2))))

;;; The colour, once every hazard rule has had its say.

(defrule colour-hazard
  (declare (salience -10))
  (exists (hazard))
  =>
  (assert (outcome (colour red))))

(defrule colour-areas
  (declare (salience -10))
  (institution (fire-L ?fl) (fire-E ?fe) (fire-C ?fc)
               (food-L ?dl) (food-E ?de) (food-C ?dc)
               (facilities-likelihood ?al) (facilities-severity ?as)
               (emergency-likelihood ?el) (emergency-severity ?es))
  (not (hazard))
  =>
  (bind ?worst (max (lec-band ?fl ?fe ?fc) (lec-band ?dl ?de ?dc)
                    (matrix-band ?al ?as) (matrix-band ?el ?es)))
  (assert (outcome (colour (nth$ (+ ?worst 1) (create$ blue yellow orange red))))))
