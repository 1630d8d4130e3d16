/*
 * zmq_utils.h for libzmq-rs. As in libzmq 4.x, everything it used to declare now lives in
 * zmq.h; this file stays so that programs which include it keep compiling.
 */
#ifndef __ZMQ_UTILS_H_INCLUDED__
#define __ZMQ_UTILS_H_INCLUDED__
#include "zmq.h"
#endif
